// 2-D pooling on [N,C,H,W] tensors, as torch.nn.functional's max_pool2d and avg_pool2d with
// ceil_mode=False: a kernel x kernel window (kh x kw with Pool2dParams) moved by stride over the
// input with implicit padding on each side of at most half the window.
#pragma once
#include "engine/backend.h"
#include "engine/tensor.h"

namespace s2dm {

// F.max_pool2d(x, kernel, stride, padding): padding never wins the maximum.
Tensor max_pool2d(const Tensor& x, int kernel, int stride, int padding = 0);
// F.avg_pool2d(x, kernel, stride, padding, count_include_pad=...): with count_include_pad the
// divisor is the window size, padding included; without it, the number of input elements in the
// window (pytorch-fid's Inception blocks use kernel 3, stride 1, padding 1 without it).
Tensor avg_pool2d(const Tensor& x, int kernel, int stride, int padding = 0,
                  bool count_include_pad = true);
// Either, with every window parameter on H and W separately (p.count_include_pad is read by
// avg_pool2d only).
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);

}  // namespace s2dm
