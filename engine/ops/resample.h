// Spatial resampling ops on [N,C,H,W] tensors.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

Tensor upsample_nearest2x(const Tensor& x);
// Bilinear resizing to [N, C, out_h, out_w], up or down, as
// F.interpolate(x, size=(out_h, out_w), mode="bilinear", align_corners=False).
Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w);
// Constant padding of the last two dims (W: left/right, H: top/bottom), like F.pad(x, (l, r, t, b)).
Tensor pad2d(const Tensor& x, int left, int right, int top, int bottom, double value = 0.0);

}  // namespace s2dm
