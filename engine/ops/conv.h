// 2-D convolution (cross-correlation, as PyTorch): x [N,Ci,H,W], w [Co,Ci,kh,kw], bias [Co] optional.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(), int stride = 1,
              int padding = 0);
// Zero padding pad_h on the top and bottom, pad_w on the left and right (Inception's 1x7 and 7x1
// convolutions pad (0, 3) and (3, 0)), like F.conv2d(..., padding=(pad_h, pad_w)).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int stride, int pad_h,
              int pad_w);

}  // namespace s2dm
