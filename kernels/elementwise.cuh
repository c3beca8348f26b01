// Elementwise kernels on the GPU (or the SIMT emulator) with the semantics of the Backend ops
// unary, unary_backward, clamp, clamp_backward, binary, scalar and axpy (engine/backend_ops.h). Buffers are dense unless a StridedLayout says otherwise; n counts
// elements.
#pragma once
#include <cstdint>

#include "kernels/elementwise_math.h"
#include "kernels/kernel_launch.h"
#include "kernels/strided_layout.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// y = f(x).
template <typename T>
void launch_unary(UnaryOp op, const T* x, T* y, int64_t n, cudaStream_t stream);

// dx = dy·f'(x).
template <typename T>
void launch_unary_backward(UnaryOp op, const T* x, const T* dy, T* dx, int64_t n,
                           cudaStream_t stream);

// out = a op b, with the operands' offsets from layout (operands a, b, out in that order).
template <typename T>
void launch_binary(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout<3>& layout,
                   cudaStream_t stream);

// y = x op s.
template <typename T>
void launch_scalar(ScalarOp op, const T* x, T s, T* y, int64_t n, cudaStream_t stream);

// y = clamp(x, lo, hi); dx = dy where lo ≤ x ≤ hi, else 0 (elementwise_math.h).
template <typename T>
void launch_clamp(const T* x, T lo, T hi, T* y, int64_t n, cudaStream_t stream);
template <typename T>
void launch_clamp_backward(const T* x, T lo, T hi, const T* dy, T* dx, int64_t n,
                           cudaStream_t stream);

// y += alpha·x.
template <typename T>
void launch_axpy(T* y, T alpha, const T* x, int64_t n, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
