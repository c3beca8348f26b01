// Constant fill of a contiguous buffer on the GPU (or the SIMT emulator). The value is passed as
// the element type itself, so a bfloat16 fill passes its bit pattern as uint16_t.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

template <typename T>
void launch_fill(T* out, int64_t n, T value, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
