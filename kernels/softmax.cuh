// Softmax over the last dim on the GPU (or the SIMT emulator), with the semantics of
// Backend::softmax_forward/backward in engine/backend.h: the input is viewed as [rows, cols] and
// each row is normalised on its own.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// y = exp(x − max) / Σ exp(x − max), row by row; lse [rows], when not null, gets each row's
// max + log Σ exp(x − max). y may be x (in place).
template <typename T>
void launch_softmax_forward(const T* x, int64_t rows, int64_t cols, T* y, T* lse,
                            cudaStream_t stream);

// dx = y ⊙ (dy − Σ dy ⊙ y), row by row, from forward's output y. dx may be dy (in place).
template <typename T>
void launch_softmax_backward(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx,
                             cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
