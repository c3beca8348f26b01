// Device utilities shared by the kernels: the full-warp mask, warp reductions, launch sizes and
// the accurate math functions by element type. Included by .cu files only (device code).
#pragma once
#include <cstdint>

#include "kernels/host_device.h"
#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

constexpr unsigned kFullMask = 0xffffffffu;
// Grid sizes stay within 65535 blocks; kernels take the rest with grid-stride loops.
constexpr int64_t kMaxBlocks = 65535;

// Blocks of per_block work items each for work_items, capped at kMaxBlocks.
inline int blocks_for(int64_t work_items, int64_t per_block) {
  const int64_t b = ceil_div(work_items, per_block);
  return static_cast<int>(b < kMaxBlocks ? b : kMaxBlocks);
}

// A grid-stride loop's start and stride: for (k = thread_index(); k < n; k += thread_count()).
__device__ __forceinline__ int64_t thread_index() {
  return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ int64_t thread_count() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// The accurate functions for float and double (the kernels are memory-bound; fast intrinsics
// would buy nothing and differ from the CPU reference by more).
__device__ __forceinline__ float exp_of(float v) { return expf(v); }
__device__ __forceinline__ double exp_of(double v) { return exp(v); }
__device__ __forceinline__ float log_of(float v) { return logf(v); }
__device__ __forceinline__ double log_of(double v) { return log(v); }
__device__ __forceinline__ float sqrt_of(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_of(double v) { return sqrt(v); }
__device__ __forceinline__ float pow_of(float v, float e) { return powf(v, e); }
__device__ __forceinline__ double pow_of(double v, double e) { return pow(v, e); }

// Warp reductions over each aligned segment of `width` lanes of a full warp (width a power of
// two, at most 32) in butterfly order, so every lane of a segment gets the same bits. Lane 0
// pairs as in a __shfl_down_sync tree, so it also gets that tree's bits.

// op(own value, partner's value) folded over the segment.
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op, int width = 32) {
  for (int offset = width / 2; offset > 0; offset /= 2)
    v = op(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// The sum of v over the segment.
template <typename T>
__device__ __forceinline__ T warp_sum(T v, int width = 32) {
  for (int offset = width / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// The sums of a and of b over the segment, their shuffles interleaved.
template <typename T>
__device__ __forceinline__ void warp_sum2(T& a, T& b, int width = 32) {
  for (int offset = width / 2; offset > 0; offset /= 2) {
    a += __shfl_xor_sync(kFullMask, a, offset);
    b += __shfl_xor_sync(kFullMask, b, offset);
  }
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
