// The CUDA vocabulary a kernel source needs before any device code: the declaration keywords,
// uint3/dim3, cudaStream_t and the built-in index variables, as the SIMT emulator defines them.
//
// Only for host compilation of kernel sources (S2DM_SIMT, never under nvcc). The names live at
// global scope, where CUDA puts them, so a .cu file compiles unchanged. The built-in variables
// are thread_local: every emulated thread of a block runs as a fiber on the one OS thread that
// launched the grid, and the scheduler stores the running fiber's index before resuming it.
#pragma once
#if defined(__CUDACC__)
#error "kernels/simt is the host emulator; nvcc compiles kernels against the CUDA runtime"
#endif

#include <cstdint>

// Declaration keywords. Everything is host code here, so the space qualifiers vanish, except
// __shared__: a block-wide variable becomes a function-local static, shared by the fibers of the
// running block (they share the OS thread) and private to each OS thread that runs emulated
// grids. __noinline__ is deliberately absent: GCC's headers spell __attribute__((__noinline__)).
#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__ static thread_local
#define __forceinline__ inline
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

struct uint3 {
  unsigned int x = 0, y = 0, z = 0;
};

struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}  // implicit, as in CUDA
};

// The CUDA runtime spells it the same way, so launcher signatures read alike in both builds.
struct CUstream_st;
using cudaStream_t = CUstream_st*;

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
inline constexpr int warpSize = 32;
