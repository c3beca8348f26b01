// Single-head scaled dot-product attention.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

// q [B,N,C], k [B,M,C], v [B,M,D] -> softmax(scale · q kᵀ) v  [B,N,D]; scale defaults to C^-1/2.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale = 0.0);

}  // namespace s2dm
