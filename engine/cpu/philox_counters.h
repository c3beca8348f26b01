// The CPU's loop over a Philox draw: one iteration per counter, i.e. per four elements
// (kernels/philox.h's layout), so every counter is computed once rather than once per element.
#pragma once
#include <cstdint>

#include "engine/cpu/strided.h"
#include "kernels/philox.h"

namespace s2dm::cpu {

// f(i, words) for each counter of a draw of n values, i = its first element.
template <typename F>
void for_each_counter(int64_t n, uint64_t seed, uint64_t offset, F f) {
  const int64_t counters = static_cast<int64_t>(philox::counters_for(static_cast<uint64_t>(n)));
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t c = 0; c < counters; ++c)
    f(4 * c, philox::philox4x32_10(offset + static_cast<uint64_t>(c), seed));
}

}  // namespace s2dm::cpu
