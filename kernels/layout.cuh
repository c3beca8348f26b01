// The layout family on the GPU (or the SIMT emulator): copies between any two strided views with
// dtype conversion, and constant fills of a strided view or a contiguous buffer (Backend::copy
// and Backend::fill).
// Element types are float, double and uint16_t holding bfloat16 bits (a storage type: converted
// through float, rounding to nearest even, exactly as engine/dtype.h does on the host).
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"
#include "kernels/strided_layout.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// dst = convert(src) elementwise, offsets from layout (operands src, dst in that order).
template <typename S, typename D>
void launch_strided_copy(const S* src, D* dst, const StridedLayout<2>& layout,
                         cudaStream_t stream);

// Every element of the view described by layout (one operand) = value.
template <typename T>
void launch_strided_fill(T* out, const StridedLayout<1>& layout, T value, cudaStream_t stream);

// Constant fill of a contiguous buffer. The value is passed as the element type itself, so a
// bfloat16 fill passes its bit pattern as uint16_t.
template <typename T>
void launch_fill(T* out, int64_t n, T value, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
