// Spatial resampling ops on [N,C,H,W] tensors.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

Tensor upsample_nearest2x(const Tensor& x);
// Constant padding of the last two dims (W: left/right, H: top/bottom), like F.pad(x, (l, r, t, b)).
Tensor pad2d(const Tensor& x, int left, int right, int top, int bottom, double value = 0.0);

}  // namespace s2dm
