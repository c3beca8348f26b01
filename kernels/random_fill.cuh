// Philox uniform/normal fills on the GPU; the values equal the CPU backend's for the same
// (seed, offset) because both evaluate kernels/philox.h element by element.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace s2dm::kernels {

template <typename T>
void launch_fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi,
                         cudaStream_t stream);
template <typename T>
void launch_fill_normal(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
                        double stddev, cudaStream_t stream);

}  // namespace s2dm::kernels
