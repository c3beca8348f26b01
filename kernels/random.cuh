// Philox uniform/normal fills on the GPU (or the SIMT emulator); the values equal the CPU
// backend's for the same (seed, offset) because both evaluate kernels/philox.h element by element.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

template <typename T>
void launch_fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi,
                         cudaStream_t stream);
template <typename T>
void launch_fill_normal(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
                        double stddev, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
