// Seeded random tensors and dropout on the Philox stream (kernels/philox.h).
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace s2dm {

// (seed, offset) state; every draw of n values advances offset by ceil(n/4), so a generator can be
// saved and restored exactly (checkpoints) and two backends draw identical streams.
struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;
  explicit Generator(uint64_t s = 0, uint64_t o = 0) : seed(s), offset(o) {}
  // Reserves the counters for n values and returns the offset to draw them at.
  uint64_t take(uint64_t n);
};

Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::F32,
             Device device = Device::cpu());
Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::F32,
            Device device = Device::cpu());  // uniform (0, 1)
// Inverted dropout: zero with probability p, scale kept values by 1/(1-p). Identity when !training.
Tensor dropout(const Tensor& x, double p, Generator& gen, bool training = true);

}  // namespace s2dm
