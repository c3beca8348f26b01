// The plane geometry of a pooling op, shared by the backends: checks the input-sized and
// output-sized tensors against the window parameters (the shape rule of kernels/pool_math.h)
// and throws "<op>: ..." naming what does not fit.
#pragma once
#include <string_view>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/tensor.h"
#include "kernels/pool_math.h"

namespace s2dm {

inline pool::Geometry pool_geometry(std::string_view op, const Tensor& in, const Tensor& out,
                                    const Pool2dParams& p) {
  S2DM_CHECK(in.dim() == 4, "{}: expected a 4-D [N,C,H,W] tensor, got {}", op, in.str());
  S2DM_CHECK(p.kh >= 1 && p.kw >= 1 && p.stride_h >= 1 && p.stride_w >= 1 && p.pad_h >= 0 &&
                 p.pad_w >= 0 && 2 * p.pad_h <= p.kh && 2 * p.pad_w <= p.kw,
             "{}: bad window {}x{} stride ({}, {}) padding ({}, {})", op, p.kh, p.kw, p.stride_h,
             p.stride_w, p.pad_h, p.pad_w);
  pool::Geometry g;
  g.h = in.size(2), g.w = in.size(3);
  g.kh = p.kh, g.kw = p.kw, g.sh = p.stride_h, g.sw = p.stride_w, g.ph = p.pad_h, g.pw = p.pad_w;
  g.count_include_pad = p.count_include_pad;
  g.ho = pool::pooled_size(g.h, g.kh, g.sh, g.ph);
  g.wo = pool::pooled_size(g.w, g.kw, g.sw, g.pw);
  S2DM_CHECK(g.ho >= 1 && g.wo >= 1 &&
                 out.shape() == Shape({in.size(0), in.size(1), g.ho, g.wo}) &&
                 out.dtype() == in.dtype(),
             "{}: {} does not match input {} pooled by {}x{} stride ({}, {}) padding ({}, {})", op,
             out.str(), in.str(), p.kh, p.kw, p.stride_h, p.stride_w, p.pad_h, p.pad_w);
  return g;
}

}  // namespace s2dm
