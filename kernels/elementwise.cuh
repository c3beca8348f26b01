// Elementwise kernels on the GPU (or the SIMT emulator) with the semantics of Backend::unary,
// unary_backward, binary, scalar, axpy and dropout_forward/backward in engine/backend.h. Buffers
// are dense unless a StridedLayout says otherwise; n counts elements.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"
#include "kernels/strided_layout.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// The ops of engine/backend.h's UnaryOp, BinaryOp and ScalarOp (kernels do not see the engine).
enum class UnaryKind { Neg, Exp, Log, Sqrt, Sigmoid, Silu, Square };
enum class BinaryKind { Add, Sub, Mul, Div };
enum class ScalarKind { Add, Mul, Pow, RSub, RDiv };  // x+s, x*s, x^s, s-x, s/x

// y = f(x).
template <typename T>
void launch_unary(UnaryKind op, const T* x, T* y, int64_t n, cudaStream_t stream);

// dx = dy·f'(x).
template <typename T>
void launch_unary_backward(UnaryKind op, const T* x, const T* dy, T* dx, int64_t n,
                           cudaStream_t stream);

// out = a op b, with the operands' offsets from layout (operands a, b, out in that order).
template <typename T>
void launch_binary(BinaryKind op, const T* a, const T* b, T* out, const StridedLayout<3>& layout,
                   cudaStream_t stream);

// y = x op s.
template <typename T>
void launch_scalar(ScalarKind op, const T* x, T s, T* y, int64_t n, cudaStream_t stream);

// y += alpha·x.
template <typename T>
void launch_axpy(T* y, T alpha, const T* x, int64_t n, cudaStream_t stream);

// out[i] = in[i]·scale where philox::uniform_at(seed, offset, i) >= p, else 0: dropout's forward
// and (with the same seed and offset, so the same mask) its backward.
template <typename T>
void launch_dropout(const T* in, T* out, int64_t n, float p, T scale, uint64_t seed,
                    uint64_t offset, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
