// Matrix products.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

// a [M,K] @ b [K,N]; or batched a [B,M,K] @ b [B,K,N]; a 2-D operand is shared across the batch.
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x wᵀ + bias; x [..., in], w [out, in], bias [out] (optional).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

}  // namespace s2dm
