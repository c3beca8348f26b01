// Nearest 2x upsampling, constant 2-D padding and bilinear resizing, with their autograd nodes.
//
// upsample, resize and pad validate here and hand contiguous [N,C,H,W] data to the backend; pad accepts
// any rank >= 2 by folding the leading dims into N.
#include "engine/ops/resample.h"

#include "engine/ops/op_util.h"

namespace s2dm {

using detail::data_of;

namespace {

struct UpsampleNearest2xBackward final : Node {
  Shape in_shape;
  const char* name() const override { return "UpsampleNearest2xBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g);
    Tensor dx = detail::empty_as(gc, in_shape);
    backend_of(gc).upsample_nearest2x_backward(gc, dx);
    return {dx};
  }
};

struct UpsampleBilinear2dBackward final : Node {
  Shape in_shape;
  const char* name() const override { return "UpsampleBilinear2dBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g);
    Tensor dx = detail::empty_as(gc, in_shape);
    backend_of(gc).upsample_bilinear2d_backward(gc, dx);
    return {dx};
  }
};

// The backend sees pad2d tensors as [N,C,H,W]; any leading dims fold into N.
Shape as_planes(const Shape& s) {
  int64_t lead = 1;
  for (size_t i = 0; i + 2 < s.size(); ++i) lead *= s[i];
  return {lead, 1, s[s.size() - 2], s[s.size() - 1]};
}

Shape padded_shape(const Shape& s, const Pad2dParams& p) {
  Shape out = s;
  out[s.size() - 2] += p.top + p.bottom;
  out[s.size() - 1] += p.left + p.right;
  return out;
}

struct Pad2dBackward final : Node {
  Shape in_shape;
  Pad2dParams params;
  const char* name() const override { return "Pad2dBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g).view(as_planes(g.shape()));
    Tensor dx = detail::empty_as(gc, as_planes(in_shape));
    backend_of(gc).pad2d_backward(gc, params, dx);
    return {dx.view(in_shape)};
  }
};

}  // namespace

Tensor upsample_nearest2x(const Tensor& x) {
  detail::check_compatible("upsample_nearest2x", {x});
  S2DM_CHECK(x.dim() == 4, "upsample_nearest2x: expected a 4-D [N,C,H,W] tensor, got {}",
             x.str());
  Tensor xc = data_of(x);
  Tensor out = detail::empty_as(xc, {x.size(0), x.size(1), 2 * x.size(2), 2 * x.size(3)});
  backend_of(xc).upsample_nearest2x_forward(xc, out);
  if (needs_grad({x})) {
    auto n = std::make_shared<UpsampleNearest2xBackward>();
    n->in_shape = x.shape();
    record(out, n, {x});
  }
  return out;
}

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  S2DM_CHECK(x.defined(), "upsample_bilinear2d: input must be a defined tensor");
  detail::check_compatible("upsample_bilinear2d", {x});
  S2DM_CHECK(x.dim() == 4, "upsample_bilinear2d: expected a 4-D [N,C,H,W] tensor, got {}",
             x.str());
  S2DM_CHECK(x.size(2) > 0 && x.size(3) > 0,
             "upsample_bilinear2d: input {} has an empty plane; there is nothing to interpolate",
             x.str());
  S2DM_CHECK(out_h > 0 && out_w > 0, "upsample_bilinear2d: output size {}x{} must be positive",
             out_h, out_w);
  Tensor xc = data_of(x);
  Tensor out = detail::empty_as(xc, {x.size(0), x.size(1), out_h, out_w});
  backend_of(xc).upsample_bilinear2d_forward(xc, out);
  if (needs_grad({x})) {
    auto n = std::make_shared<UpsampleBilinear2dBackward>();
    n->in_shape = x.shape();
    record(out, n, {x});
  }
  return out;
}

Tensor pad2d(const Tensor& x, int left, int right, int top, int bottom, double value) {
  detail::check_compatible("pad2d", {x});
  S2DM_CHECK(x.dim() >= 2, "pad2d: pads the last two dims, so needs at least 2-D, got {}",
             x.str());
  S2DM_CHECK(left >= 0 && right >= 0 && top >= 0 && bottom >= 0,
             "pad2d: pads (left {}, right {}, top {}, bottom {}) must be non-negative; crop with "
             "slice() instead",
             left, right, top, bottom);
  Pad2dParams p;
  p.left = left;
  p.right = right;
  p.top = top;
  p.bottom = bottom;
  p.value = value;
  Tensor xc = data_of(x).view(as_planes(x.shape()));
  Tensor out = detail::empty_as(xc, padded_shape(xc.shape(), p));
  backend_of(xc).pad2d_forward(xc, p, out);
  out = out.view(padded_shape(x.shape(), p));
  if (needs_grad({x})) {
    auto n = std::make_shared<Pad2dBackward>();
    n->in_shape = x.shape();
    n->params = p;
    record(out, n, {x});
  }
  return out;
}

}  // namespace s2dm
