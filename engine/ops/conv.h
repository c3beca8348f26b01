// 2-D convolution (cross-correlation, as PyTorch): x [N,Ci,H,W], w [Co,Ci,kh,kw], bias [Co] optional.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(), int stride = 1,
              int padding = 0);

}  // namespace s2dm
