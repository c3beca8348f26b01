// Normalisation.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

// GroupNorm over x [N,C,*] with `groups` groups; gamma/beta [C] optional (affine when given).
Tensor group_norm(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta,
                  double eps = 1e-6);
// silu(group_norm(x)) in one pass (the UNet's norm + swish). With channel_add [N, C], the norm is
// of x + channel_add[:, :, None, ...] without that sum being materialised (the ResBlock's time
// embedding); gradients flow to channel_add too.
Tensor group_norm_silu(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta,
                       double eps = 1e-6, const Tensor& channel_add = Tensor());

}  // namespace s2dm
