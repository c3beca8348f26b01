// Channel-first attention (q [B,C,N], k [B,C,M], v [B,D,M] -> o [B,D,N]) computed by the
// token-layout attention ops of `be` with transposing copies around them: the CPU backend's way,
// and the device backends' fallback where their product-based path does not apply.
#pragma once
#include "engine/backend.h"

namespace s2dm {

void attention_channels_first_by_transposes_forward(Backend& be, const Tensor& q, const Tensor& k,
                                                    const Tensor& v, double scale, Tensor& o,
                                                    Tensor& lse);
void attention_channels_first_by_transposes_backward(Backend& be, const Tensor& q,
                                                     const Tensor& k, const Tensor& v,
                                                     const Tensor& o, const Tensor& lse,
                                                     const Tensor& d_o, double scale, Tensor& dq,
                                                     Tensor& dk, Tensor& dv);

}  // namespace s2dm
