// The fused S²-DM loss on the GPU (or the SIMT emulator), with the semantics of
// Backend::skip_loss in engine/backend.h: out, eps1 and eps2 are [batch, per_sample], c, w0 and
// wskip [batch].
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// Writes l0 and lskip [batch], loss [1] and, when non-null, dout [batch, per_sample].
template <typename T>
void launch_skip_loss(const T* out, const T* eps1, const T* eps2, const T* c, const T* w0,
                      const T* wskip, int64_t batch, int64_t per_sample, double inv_reduce, T* l0,
                      T* lskip, T* loss, T* dout, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
