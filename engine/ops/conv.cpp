// conv2d: input validation, the backend call, and the autograd node for dx, dW and dbias.
#include "engine/ops/conv.h"

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct Conv2dBackward final : Node {
  Tensor x, w;  // detached contiguous data; views of the inputs when those were contiguous
  bool has_bias = false;
  Conv2dParams params;
  const char* name() const override { return "Conv2dBackward"; }
  void release() override { x = w = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = detail::data_of(g);
    Tensor dx, dw, db;
    if (next[0].fn) dx = detail::empty_like(x);
    if (next[1].fn) dw = detail::empty_like(w);
    if (has_bias && next[2].fn) db = detail::empty_as(w, {w.size(0)});
    if (dx.defined() || dw.defined() || db.defined())
      backend_of(gc).conv2d_backward(x, w, gc, dx, dw, db, params);
    return {dx, dw, db};
  }
};

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int stride, int padding) {
  return conv2d(x, w, bias, stride, padding, padding);
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int stride, int pad_h,
              int pad_w) {
  S2DM_CHECK(x.defined() && w.defined(), "conv2d: input and weight must be defined tensors");
  detail::check_compatible("conv2d", {x, w, bias});
  S2DM_CHECK(x.dim() == 4, "conv2d: input must be 4-D [N, C, H, W], got {}", x.str());
  S2DM_CHECK(w.dim() == 4, "conv2d: weight must be 4-D [Co, Ci, kh, kw], got {}", w.str());
  S2DM_CHECK(x.size(1) == w.size(1),
             "conv2d: input {} has {} channels but weight {} expects {} input channels", x.str(),
             x.size(1), w.str(), w.size(1));
  S2DM_CHECK(x.size(1) > 0 && x.size(2) > 0 && x.size(3) > 0,
             "conv2d: input {} has an empty channel or spatial dimension", x.str());
  S2DM_CHECK(w.size(0) > 0 && w.size(2) > 0 && w.size(3) > 0,
             "conv2d: weight {} has an empty output-channel or kernel dimension", w.str());
  if (bias.defined()) {
    S2DM_CHECK(bias.dim() == 1 && bias.size(0) == w.size(0),
               "conv2d: bias {} does not match weight {} (expects [{}])", bias.str(), w.str(),
               w.size(0));
  }
  S2DM_CHECK(stride >= 1, "conv2d: stride must be >= 1, got {}", stride);
  S2DM_CHECK(pad_h >= 0 && pad_w >= 0, "conv2d: padding must be >= 0, got ({}, {})", pad_h,
             pad_w);
  const int64_t hp = x.size(2) + 2 * int64_t{pad_h}, wp = x.size(3) + 2 * int64_t{pad_w};
  S2DM_CHECK(w.size(2) <= hp && w.size(3) <= wp,
             "conv2d: kernel {}x{} of weight {} is larger than the padded input {}x{} (input {}, "
             "padding ({}, {}))",
             w.size(2), w.size(3), w.str(), hp, wp, x.str(), pad_h, pad_w);

  const Conv2dParams params{stride, pad_h, pad_w};
  const int64_t ho = (hp - w.size(2)) / stride + 1, wo = (wp - w.size(3)) / stride + 1;
  Tensor xc = detail::data_of(x), wc = detail::data_of(w), bc = detail::data_of(bias);
  Tensor y = detail::empty_as(x, {x.size(0), w.size(0), ho, wo});
  backend_of(x).conv2d_forward(xc, wc, bc, y, params);
  if (needs_grad({x, w, bias})) {
    auto n = std::make_shared<Conv2dBackward>();
    n->x = xc;
    n->w = wc;
    n->has_bias = bias.defined();
    n->params = params;
    record(y, n, {x, w, bias});
  }
  return y;
}

}  // namespace s2dm
