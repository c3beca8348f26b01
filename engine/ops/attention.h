// Single-head scaled dot-product attention.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

// q [B,N,C], k [B,M,C], v [B,M,D] -> softmax(scale · q kᵀ) v  [B,N,D]; scale defaults to C^-1/2.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale = 0.0);

// The same in channel-first layout, as 1x1 convolutions produce it: q [B,C,N], k [B,C,M],
// v [B,D,M] -> [B,D,N]; equal to attention(qᵀ, kᵀ, vᵀ)ᵀ (transposes of the last two dims) without
// the transposes on device backends.
Tensor attention_channels_first(const Tensor& q, const Tensor& k, const Tensor& v,
                                double scale = 0.0);

}  // namespace s2dm
