// Parallel iteration over every element of a shape for K operands with arbitrary strides
// (stride 0 = broadcast). f(offsets) receives one element offset per operand.
#pragma once
#include <array>
#include <cstdint>
#include <omp.h>

#include "engine/tensor.h"

namespace s2dm::cpu {

// Below this many elements a loop is not worth waking the OpenMP team.
constexpr int64_t kParallelGrain = 32768;

template <size_t K, typename F>
void strided_for(const Shape& shape, const std::array<Strides, K>& strides, F&& f) {
  const int64_t n = shape_numel(shape);
  const int nd = static_cast<int>(shape.size());
  if (n == 0) return;
  const int64_t chunk = 4096;
  const int64_t nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t c = 0; c < nchunks; ++c) {
    const int64_t begin = c * chunk, end = std::min(n, begin + chunk);
    int64_t idx[16] = {0};
    std::array<int64_t, K> off{};
    int64_t rem = begin;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      for (size_t k = 0; k < K; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (int64_t i = begin; i < end; ++i) {
      f(off);
      for (int d = nd - 1; d >= 0; --d) {  // increment the multi-index with carry
        for (size_t k = 0; k < K; ++k) off[k] += strides[k][d];
        if (++idx[d] < shape[d]) break;
        for (size_t k = 0; k < K; ++k) off[k] -= strides[k][d] * shape[d];
        idx[d] = 0;
      }
    }
  }
}

}  // namespace s2dm::cpu
