// S2DM_HD marks a function that the CPU backend and the CUDA kernels share (philox.h,
// adam_math.h, elementwise_math.h): host-and-device and inlined under nvcc, plain inline elsewhere.
#pragma once

#if defined(__CUDACC__)
#define S2DM_HD __host__ __device__ __forceinline__
#else
#define S2DM_HD inline
#endif
