// Single-head attention, forward and backward, on the GPU (or the SIMT emulator), with the
// semantics of Backend::attention_forward/backward in engine/backend.h: q [B, N, C], k [B, M, C],
// v [B, M, D], o [B, N, D] and lse [B, N], all contiguous.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

struct AttentionShape {
  int64_t b = 0;  // batch
  int64_t n = 0;  // queries
  int64_t m = 0;  // keys; at least 1 when n is
  int64_t c = 0;  // query/key features
  int64_t d = 0;  // value features
};

// o = softmax(scale·q kᵀ) v and lse = the row log-sum-exp of scale·q kᵀ.
template <typename T>
void launch_attention_forward(const T* q, const T* k, const T* v, AttentionShape shape,
                              double scale, T* o, T* lse, cudaStream_t stream);

// Elements of T that launch_attention_backward needs as workspace when dq or dk is wanted.
inline int64_t attention_backward_workspace(AttentionShape shape) { return shape.b * shape.n; }

// From forward's o and lse and the output gradient d_o, writes each of dq [B, N, C],
// dk [B, M, C], dv [B, M, D] that is non-null, overwriting it fully. workspace
// (attention_backward_workspace elements) may be null when dq and dk both are.
template <typename T>
void launch_attention_backward(const T* q, const T* k, const T* v, const T* o, const T* lse,
                               const T* d_o, AttentionShape shape, double scale, T* dq, T* dk,
                               T* dv, T* workspace, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
