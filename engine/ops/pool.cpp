// max_pool2d and avg_pool2d: checks, the backend call, and their autograd nodes. Max pooling
// saves x (the backend recomputes each window's argmax from it), average pooling nothing.
#include "engine/ops/pool.h"

#include "engine/ops/op_util.h"
#include "kernels/pool_math.h"

namespace s2dm {

using detail::data_of;

namespace {

Pool2dParams square(int kernel, int stride, int padding, bool count_include_pad) {
  Pool2dParams p;
  p.kh = p.kw = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = padding;
  p.count_include_pad = count_include_pad;
  return p;
}

// Validates x and p; returns the output shape.
Shape pooled_shape(const char* op, const Tensor& x, const Pool2dParams& p) {
  S2DM_CHECK(x.defined(), "{}: input must be a defined tensor", op);
  detail::check_compatible(op, {x});
  S2DM_CHECK(x.dim() == 4, "{}: expected a 4-D [N,C,H,W] tensor, got {}", op, x.str());
  S2DM_CHECK(p.kh >= 1 && p.kw >= 1, "{}: kernel {}x{} must be at least 1x1", op, p.kh, p.kw);
  S2DM_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "{}: stride ({}, {}) must be >= 1", op,
             p.stride_h, p.stride_w);
  S2DM_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kh && 2 * p.pad_w <= p.kw,
             "{}: padding ({}, {}) must be between 0 and half the kernel {}x{}", op, p.pad_h,
             p.pad_w, p.kh, p.kw);
  S2DM_CHECK(x.size(2) + 2 * p.pad_h >= p.kh && x.size(3) + 2 * p.pad_w >= p.kw,
             "{}: kernel {}x{} is larger than the input {} padded by ({}, {})", op, p.kh, p.kw,
             x.str(), p.pad_h, p.pad_w);
  return {x.size(0), x.size(1), pool::pooled_size(x.size(2), p.kh, p.stride_h, p.pad_h),
          pool::pooled_size(x.size(3), p.kw, p.stride_w, p.pad_w)};
}

struct MaxPool2dBackward final : Node {
  Tensor x;
  Pool2dParams params;
  const char* name() const override { return "MaxPool2dBackward"; }
  void release() override { x = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g);
    Tensor dx = detail::empty_like(x);
    backend_of(gc).max_pool2d_backward(x, gc, params, dx);
    return {dx};
  }
};

struct AvgPool2dBackward final : Node {
  Shape in_shape;
  Pool2dParams params;
  const char* name() const override { return "AvgPool2dBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g);
    Tensor dx = detail::empty_as(gc, in_shape);
    backend_of(gc).avg_pool2d_backward(gc, params, dx);
    return {dx};
  }
};

}  // namespace

Tensor max_pool2d(const Tensor& x, int kernel, int stride, int padding) {
  return max_pool2d(x, square(kernel, stride, padding, true));
}

Tensor avg_pool2d(const Tensor& x, int kernel, int stride, int padding, bool count_include_pad) {
  return avg_pool2d(x, square(kernel, stride, padding, count_include_pad));
}

Tensor max_pool2d(const Tensor& x, const Pool2dParams& p) {
  const Shape out_shape = pooled_shape("max_pool2d", x, p);
  Tensor xc = data_of(x);
  Tensor y = detail::empty_as(xc, out_shape);
  backend_of(xc).max_pool2d_forward(xc, p, y);
  if (needs_grad({x})) {
    auto n = std::make_shared<MaxPool2dBackward>();
    n->x = xc;
    n->params = p;
    record(y, n, {x});
  }
  return y;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p) {
  const Shape out_shape = pooled_shape("avg_pool2d", x, p);
  Tensor xc = data_of(x);
  Tensor y = detail::empty_as(xc, out_shape);
  backend_of(xc).avg_pool2d_forward(xc, p, y);
  if (needs_grad({x})) {
    auto n = std::make_shared<AvgPool2dBackward>();
    n->in_shape = x.shape();
    n->params = p;
    record(y, n, {x});
  }
  return y;
}

}  // namespace s2dm
