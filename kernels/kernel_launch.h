// The one launch convention for handwritten kernels, so a .cu file compiles unchanged with nvcc
// (CUDA runtime, <<<>>>) and with the host compiler for the SIMT emulator (S2DM_SIMT defined).
//
//   launch(kernel, grid, block, dynamic_shared_bytes, stream, args...);
//   T* buf = dynamic_shared<T>();      // inside a kernel: the launch's dynamic shared memory
//   __shared__ float tile[256];        // static shared memory is written as usual
//
// Launchers live in `namespace s2dm::kernels { inline namespace S2DM_KERNEL_TARGET {`: the
// inline namespace (on_gpu or on_simt) keeps the two builds of one launcher apart when both
// libraries end up in one program, while callers still write s2dm::kernels::launch_x(...).
// Launch errors: on the GPU, check cudaGetLastError() after the launcher as usual; the emulator
// runs synchronously and throws s2dm::simt::SimtError.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>

#if defined(S2DM_SIMT)
#include "kernels/simt/simt.h"
#define S2DM_KERNEL_TARGET on_simt
#else
#include <cuda_runtime.h>
#define S2DM_KERNEL_TARGET on_gpu
#endif

// Fully unrolls a loop with a compile-time trip count, so arrays it indexes stay in registers
// (nvcc); the emulator's host compiler needs no hint.
#if defined(__CUDACC__) && !defined(S2DM_SIMT)
#define S2DM_UNROLL _Pragma("unroll")
#else
#define S2DM_UNROLL
#endif

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

inline constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

#if defined(S2DM_SIMT)

template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_shared_bytes,
            cudaStream_t /*stream*/, Args&&... args) {
  simt::launch(kernel, grid, block, dynamic_shared_bytes, std::forward<Args>(args)...);
}

template <typename T>
T* dynamic_shared() {
  return static_cast<T*>(simt::dynamic_shared_memory());
}

#elif defined(__CUDACC__)

template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_shared_bytes,
            cudaStream_t stream, Args&&... args) {
  kernel<<<grid, block, dynamic_shared_bytes, stream>>>(std::forward<Args>(args)...);
}

// One byte array for every kernel: extern __shared__ declarations of different element types
// under one name would conflict, and 16-byte alignment suits every scalar and vector type.
template <typename T>
__device__ __forceinline__ T* dynamic_shared() {
  extern __shared__ __align__(16) unsigned char s2dm_dynamic_shared_bytes[];
  return reinterpret_cast<T*>(s2dm_dynamic_shared_bytes);
}

#endif  // a host TU including a launcher header needs only the declarations

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
