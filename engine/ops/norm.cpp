// group_norm and group_norm_silu: validation, backend calls and autograd nodes.
//
// The group-norm node saves detached x, channel_add, gamma, the per-(n, g) mean/rstd and, only
// when SiLU is fused (backward then recomputes the pre-activation), beta. The gradient of
// channel_add is the spatial sum of dx.
// Nodes drop everything in release() and compute gradients only for inputs with a live edge.
#include "engine/ops/norm.h"

#include <cmath>

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct GroupNormBackward final : Node {
  Tensor x, channel_add, gamma, beta, mean, rstd;
  int groups = 1;
  bool silu = false;
  const char* name() const override { return silu ? "GroupNormSiluBackward" : "GroupNormBackward"; }
  void release() override { x = channel_add = gamma = beta = mean = rstd = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    // Edges: x, gamma, beta, then channel_add when there is one.
    const bool want_add = next.size() > 3 && next[3].fn;
    Tensor dx, dgamma, dbeta, dadd;
    if (next[0].fn || want_add) dx = detail::empty_like(x);
    if (next[1].fn) dgamma = detail::empty_like(gamma);
    if (next[2].fn) dbeta = detail::empty_as(x, {x.size(1)});
    if (dx.defined() || dgamma.defined() || dbeta.defined()) {
      backend_of(x).group_norm_backward(x, channel_add, gamma, beta, mean, rstd,
                                        detail::data_of(g), groups, silu, dx, dgamma, dbeta);
    }
    if (want_add) {
      Shape nc1{x.size(0), x.size(1)};
      for (int64_t d = 2; d < x.dim(); ++d) nc1.push_back(1);
      dadd = detail::empty_as(x, nc1);
      backend_of(x).sum_to(dx, dadd);
      dadd = dadd.view({x.size(0), x.size(1)});
    }
    if (!next[0].fn) dx = Tensor();
    if (next.size() > 3) return {dx, dgamma, dbeta, dadd};
    return {dx, dgamma, dbeta};
  }
};

void check_affine(const char* op, const char* what, const Tensor& p, const Tensor& x) {
  if (!p.defined()) return;
  S2DM_CHECK(p.dim() == 1 && p.size(0) == x.size(1), "{}: {} must have shape [{}] for x {}, got {}",
             op, what, x.size(1), x.str(), p.str());
}

Tensor group_norm_impl(const char* op, const Tensor& x, int groups, const Tensor& gamma,
                       const Tensor& beta, double eps, bool silu, const Tensor& channel_add) {
  S2DM_CHECK(x.defined(), "{}: x is undefined", op);
  detail::check_compatible(op, {x, gamma, beta, channel_add});
  S2DM_CHECK(x.dim() >= 2, "{}: expects x of shape [N, C, *], got {}", op, x.str());
  const int64_t channels = x.size(1);
  S2DM_CHECK(groups > 0, "{}: groups must be positive, got {}", op, groups);
  S2DM_CHECK(channels > 0 && channels % groups == 0,
             "{}: {} channels are not divisible by {} groups (x {})", op, channels, groups,
             x.str());
  for (int64_t d = 2; d < x.dim(); ++d)
    S2DM_CHECK(x.size(d) > 0, "{}: x {} has an empty spatial dim {}", op, x.str(), d);
  check_affine(op, "gamma", gamma, x);
  check_affine(op, "beta", beta, x);
  S2DM_CHECK(!channel_add.defined() || channel_add.shape() == Shape({x.size(0), channels}),
             "{}: channel_add must have shape [{}, {}] for x {}, got {}", op, x.size(0), channels,
             x.str(), channel_add.defined() ? channel_add.str() : "");
  S2DM_CHECK(std::isfinite(eps) && eps >= 0, "{}: eps must be finite and non-negative, got {}",
             op, eps);

  Tensor xc = detail::data_of(x), gc = detail::data_of(gamma), bc = detail::data_of(beta);
  Tensor ac = detail::data_of(channel_add);
  Tensor y = detail::empty_like(xc);
  Tensor mean = detail::empty_as(xc, {x.size(0), groups});
  Tensor rstd = detail::empty_as(xc, {x.size(0), groups});
  backend_of(xc).group_norm_forward(xc, ac, gc, bc, groups, eps, silu, y, mean, rstd);
  if (needs_grad({x, gamma, beta, channel_add})) {
    auto n = std::make_shared<GroupNormBackward>();
    n->x = xc;
    n->channel_add = ac;
    n->gamma = gc;
    if (silu) n->beta = bc;
    n->mean = mean;
    n->rstd = rstd;
    n->groups = groups;
    n->silu = silu;
    if (channel_add.defined())
      record(y, n, {x, gamma, beta, channel_add});
    else
      record(y, n, {x, gamma, beta});
  }
  return y;
}

}  // namespace

Tensor group_norm(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta,
                  double eps) {
  return group_norm_impl("group_norm", x, groups, gamma, beta, eps, false, Tensor());
}

Tensor group_norm_silu(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta,
                       double eps, const Tensor& channel_add) {
  return group_norm_impl("group_norm_silu", x, groups, gamma, beta, eps, true, channel_add);
}

}  // namespace s2dm
