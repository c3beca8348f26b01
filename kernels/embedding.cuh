// The sinusoidal timestep embedding, forward and backward, on the GPU (or the SIMT emulator), with
// the semantics of Backend::timestep_embedding_forward/backward (engine/backend_ops.h).
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// emb [n, dim] = [sin(t·f) | cos(t·f)], plus a zero last column when dim is odd, with the
// frequencies f_i = exp(−i·ln(10000)/(dim/2 − 1)), i < dim/2, evaluated in T as the CPU backend
// does (engine/cpu/cpu_embedding.cpp). dim >= 4.
template <typename T>
void launch_timestep_embedding_forward(const T* t, int64_t n, int64_t dim, T* emb,
                                       cudaStream_t stream);
// dt [n] = Σ_i f_i·(demb[:, i]·cos(t·f_i) − demb[:, dim/2 + i]·sin(t·f_i)).
template <typename T>
void launch_timestep_embedding_backward(const T* t, const T* demb, int64_t n, int64_t dim, T* dt,
                                        cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
