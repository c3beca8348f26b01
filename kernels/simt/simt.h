// The SIMT emulator: compiles CUDA kernel sources with the host compiler and runs them on the CPU,
// so every handwritten kernel executes in CI without a GPU. See docs/simt-emulator.md.
//
// types.h       keywords, uint3/dim3, cudaStream_t, threadIdx/blockIdx/blockDim/gridDim
// runtime.h     the fiber scheduler, barriers, warp collectives, deadlock reports, launch()
// device_api.h  __syncthreads, shuffles, votes, atomics, math and bit intrinsics
//
// Kernel sources do not include this header directly: kernels/kernel_launch.h picks it when
// S2DM_SIMT is defined and the CUDA runtime otherwise.
#pragma once
#include "kernels/simt/types.h"
#include "kernels/simt/runtime.h"
#include "kernels/simt/device_api.h"
