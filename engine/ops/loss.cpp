// skip_loss: validation, one backend call and an autograd node.
//
// The backend writes ∂loss/∂out during forward (it needs no reduction), so the node saves only
// that tensor, and its backward scales it by the incoming scalar gradient.
#include "engine/ops/loss.h"

#include "engine/ops/elementwise.h"
#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"
#include "engine/ops/softmax.h"

namespace s2dm {

namespace {

struct SkipLossBackward final : Node {
  Tensor dout;
  const char* name() const override { return "SkipLossBackward"; }
  void release() override { dout = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override { return {mul(dout, g)}; }
};

void check_target(const char* what, const Tensor& e, const Tensor& out) {
  S2DM_CHECK(e.defined(), "skip_loss: {} is undefined", what);
  S2DM_CHECK(e.shape() == out.shape(), "skip_loss: {} {} and out {} differ in shape", what, e.str(),
             out.str());
}

Tensor per_sample_tensor(const char* what, const std::vector<double>& v, const Tensor& out) {
  S2DM_CHECK(static_cast<int64_t>(v.size()) == out.size(0),
             "skip_loss: {} values of {} for a batch of {}", v.size(), what, out.size(0));
  return Tensor::from_vector(v, {out.size(0)}, out.dtype(), out.device());
}

void check_weight(const char* what, const Tensor& w, const Tensor& out) {
  S2DM_CHECK(w.defined() && w.dim() == 1 && w.size(0) == out.size(0) && w.is_contiguous(),
             "skip_loss: {} must be a contiguous [{}] for the batch, got {}", what, out.size(0),
             w.defined() ? w.str() : std::string("an undefined tensor"));
  S2DM_CHECK(w.dtype() == out.dtype() && w.device() == out.device(),
             "skip_loss: {} {} and out {} differ in dtype or device", what, w.str(), out.str());
}

}  // namespace

SkipLossResult skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                         const SkipLossWeights& weights, bool sum_per_sample) {
  S2DM_CHECK(out.defined() && out.dim() >= 1,
             "skip_loss: out must be a non-empty batch [B, ...], got {}",
             out.defined() ? out.str() : std::string("an undefined tensor"));
  return skip_loss(out, eps1, eps2, per_sample_tensor("c", weights.c, out),
                   per_sample_tensor("w0", weights.w0, out),
                   per_sample_tensor("wskip", weights.wskip, out), sum_per_sample);
}

SkipLossResult skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                         const Tensor& c_in, const Tensor& w0_in, const Tensor& wskip_in,
                         bool sum_per_sample) {
  S2DM_CHECK(out.defined() && out.dim() >= 1 && out.numel() > 0,
             "skip_loss: out must be a non-empty batch [B, ...], got {}",
             out.defined() ? out.str() : std::string("an undefined tensor"));
  check_target("eps1", eps1, out);
  check_target("eps2", eps2, out);
  detail::check_compatible("skip_loss", {out, eps1, eps2});
  S2DM_CHECK(!needs_grad({eps1, eps2}),
             "skip_loss: eps1 and eps2 are targets and take no gradient; pass them detached");

  check_weight("c", c_in, out);
  check_weight("w0", w0_in, out);
  check_weight("wskip", wskip_in, out);
  const Tensor o = detail::data_of(out), e1 = detail::data_of(eps1), e2 = detail::data_of(eps2);
  const Tensor c = detail::data_of(c_in), w0 = detail::data_of(w0_in),
               wskip = detail::data_of(wskip_in);
  const int64_t batch = o.size(0);
  SkipLossResult r;
  r.l0 = detail::empty_as(o, {batch});
  r.lskip = detail::empty_as(o, {batch});
  r.loss = detail::empty_as(o, Shape{});
  const bool grad = needs_grad({out});
  Tensor dout = grad ? detail::empty_like(o) : Tensor();
  const double inv_reduce = sum_per_sample ? 1.0 : 1.0 / static_cast<double>(o.numel() / batch);
  backend_of(o).skip_loss(o, e1, e2, c, w0, wskip, inv_reduce, r.l0, r.lskip, r.loss, dout);
  if (grad) {
    auto n = std::make_shared<SkipLossBackward>();
    n->dout = dout;
    record(r.loss, n, {out});
  }
  return r;
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  S2DM_CHECK(logits.defined() && logits.dim() == 2 && logits.size(0) >= 1 && logits.size(1) >= 1,
             "cross_entropy: logits must be [B, K] with B, K >= 1, got {}",
             logits.defined() ? logits.str() : std::string("an undefined tensor"));
  const int64_t batch = logits.size(0), classes = logits.size(1);
  S2DM_CHECK(static_cast<int64_t>(labels.size()) == batch,
             "cross_entropy: {} labels for a batch of {}", labels.size(), batch);
  std::vector<double> onehot(static_cast<size_t>(batch * classes), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t y = labels[static_cast<size_t>(b)];
    S2DM_CHECK(y >= 0 && y < classes, "cross_entropy: label {} of row {} is outside [0, {})", y, b,
               classes);
    onehot[static_cast<size_t>(b * classes + y)] = 1.0;
  }
  const Tensor target =
      Tensor::from_vector(onehot, {batch, classes}, logits.dtype(), logits.device());
  // logsumexp(x) = s + log Σ exp(x − s) for any s. With s the softmax-weighted mean of the row
  // (softmax is computed stably), max − s ≤ K/e, so no exp overflows and the largest term stays
  // ≥ 1. The shift is a constant for the gradient: ∂lse/∂x is softmax(x) whatever s is.
  const Tensor shift = sum(mul(softmax(logits), logits), {1}, /*keepdim=*/true).detach();
  const Tensor lse = add(shift, log(sum(exp(sub(logits, shift)), {1}, true)));
  const Tensor picked = sum(mul(logits, target), {1}, true);
  return mean(sub(lse, picked));
}

Tensor mse_loss(const Tensor& a, const Tensor& b) {
  S2DM_CHECK(a.shape() == b.shape(), "mse_loss: shapes {} and {} differ", a.str(), b.str());
  return mean(square(sub(a, b)));
}

}  // namespace s2dm
