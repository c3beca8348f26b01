// Nearest 2x upsampling, constant 2-D padding and concatenation, with their autograd nodes.
//
// upsample and pad validate here and hand contiguous [N,C,H,W] data to the backend; pad accepts
// any rank >= 2 by folding the leading dims into N. concat needs no backend kernel: it copies each
// input into its slice of the output, and its backward hands each input its slice of the gradient.
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

struct ConcatBackward final : Node {
  int64_t dim = 0;
  std::vector<int64_t> starts, lengths;
  const char* name() const override { return "ConcatBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    std::vector<Tensor> grads(next.size());
    for (size_t i = 0; i < next.size(); ++i) {
      if (!next[i].fn) continue;
      grads[i] = g.slice(dim, starts[i], starts[i] + lengths[i]).contiguous();
    }
    return grads;
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

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  S2DM_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (size_t i = 0; i < xs.size(); ++i)
    S2DM_CHECK(xs[i].defined(), "concat: tensor {} of {} is undefined", i, xs.size());
  const Tensor& first = xs[0];
  S2DM_CHECK(first.dtype() != DType::BF16,
             "concat: bfloat16 is a storage type; convert {} to float32", first.str());
  const int64_t rank = first.dim();
  S2DM_CHECK(rank >= 1, "concat: cannot concatenate 0-d tensors ({})", first.str());
  const int64_t d = dim < 0 ? dim + rank : dim;
  S2DM_CHECK(d >= 0 && d < rank, "concat: dim {} out of range for {}-d tensors", dim, rank);

  Shape out_shape = first.shape();
  out_shape[static_cast<size_t>(d)] = 0;
  bool grad = false;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    S2DM_CHECK(x.dtype() == first.dtype() && x.device() == first.device(),
               "concat: tensor {} is {} but tensor 0 is {}; dtypes and devices must match", i,
               x.str(), first.str());
    S2DM_CHECK(x.dim() == rank, "concat: tensor {} is {}-d ({}) but tensor 0 is {}-d", i,
               x.dim(), x.str(), rank);
    for (int64_t k = 0; k < rank; ++k) {
      if (k == d) continue;
      S2DM_CHECK(x.size(k) == first.size(k),
                 "concat along dim {}: tensor {} has shape {} but tensor 0 has {}; only dim {} "
                 "may differ",
                 d, i, shape_str(x.shape()), shape_str(first.shape()), d);
    }
    out_shape[static_cast<size_t>(d)] += x.size(d);
    grad = grad || x.requires_grad();
  }

  Tensor out = detail::empty_as(first, out_shape);
  auto node = std::make_shared<ConcatBackward>();
  node->dim = d;
  {
    NoGradGuard no_grad;  // the copies are bookkeeping; the node below records the op
    int64_t start = 0;
    for (const Tensor& x : xs) {
      const int64_t len = x.size(d);
      if (len > 0) out.slice(d, start, start + len).copy_(x);
      node->starts.push_back(start);
      node->lengths.push_back(len);
      start += len;
    }
  }
  if (grad && GradMode::enabled()) record(out, node, xs);
  return out;
}

}  // namespace s2dm
