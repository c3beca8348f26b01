// GroupNorm, optionally fused with SiLU, forward and backward on the GPU (or the SIMT emulator),
// with the semantics of Backend::group_norm_forward/backward in engine/backend.h: x is viewed as
// [N, C, S] (S = product of the trailing dims), group g of sample n is channels
// [g·C/G, (g+1)·C/G), and forward saves mean and rstd [N, G] for backward.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

struct GroupNormShape {
  int64_t n = 0;        // batch
  int64_t c = 0;        // channels, a multiple of groups
  int64_t spatial = 1;  // product of the dims after C; 1 when there are none
  int64_t groups = 1;
};

// With x' = x + channel_add[n, c] (channel_add [N, C] may be null: x' = x),
// y = act(gamma·(x' − mean)·rstd + beta), act = SiLU when silu; gamma/beta may be null (1, 0).
// Writes y [N, C, S], mean and rstd [N, G].
template <typename T>
void launch_group_norm_forward(const T* x, const T* channel_add, const T* gamma, const T* beta,
                               GroupNormShape shape, double eps, bool silu, T* y, T* mean,
                               T* rstd, cudaStream_t stream);

// Elements of T that launch_group_norm_backward needs as workspace when dgamma or dbeta is wanted.
inline int64_t group_norm_backward_workspace(GroupNormShape shape) {
  return 2 * shape.n * shape.c;
}

// From forward's mean/rstd and dy, writes each of dx = dL/dx' [N, C, S], dgamma [C], dbeta [C]
// that is non-null, overwriting it fully. workspace (group_norm_backward_workspace elements) may
// be null when dgamma and dbeta both are.
template <typename T>
void launch_group_norm_backward(const T* x, const T* channel_add, const T* gamma, const T* beta,
                                const T* mean, const T* rstd, const T* dy, GroupNormShape shape,
                                bool silu, T* dx, T* dgamma, T* dbeta, T* workspace,
                                cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
