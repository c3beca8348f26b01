// Deterministic test inputs without a random-number generator: splitmix64 of the element index,
// so Python golden generators (hashed_f32 in tests/golden/gen_norm_attention.py) reproduce them
// without storing large inputs. No test framework here: the backend-ops harness program uses it.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace s2dm::test {

// Values in [shift − scale, shift + scale).
std::vector<double> hashed_values(int64_t n, uint64_t seed, double scale, double shift);
Tensor hashed_f32(const Shape& shape, uint64_t seed, double scale, double shift);
// Every `stride`-th element of t in row-major order (large golden outputs keep only those).
Tensor every_nth(const Tensor& t, int64_t stride);

}  // namespace s2dm::test
