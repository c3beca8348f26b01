// attention(q, k, v, scale): validation, the backend call and the autograd node.
//
// The node saves detached q, k, v, the output o and the per-row log-sum-exp lse [B,N]; backward
// recomputes the attention probabilities from them rather than keeping [B,N,M] alive, and asks
// the backend only for the gradients whose inputs have a live edge. release() drops all five.
#include "engine/ops/attention.h"

#include <cmath>

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct AttentionBackward final : Node {
  Tensor q, k, v, o, lse;
  double scale = 1.0;
  const char* name() const override { return "AttentionBackward"; }
  void release() override { q = k = v = o = lse = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dq, dk, dv;
    if (next[0].fn) dq = detail::empty_like(q);
    if (next[1].fn) dk = detail::empty_like(k);
    if (next[2].fn) dv = detail::empty_like(v);
    if (dq.defined() || dk.defined() || dv.defined())
      backend_of(q).attention_backward(q, k, v, o, lse, detail::data_of(g), scale, dq, dk, dv);
    return {dq, dk, dv};
  }
};

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  S2DM_CHECK(q.defined() && k.defined() && v.defined(), "attention: q, k and v must all be given");
  detail::check_compatible("attention", {q, k, v});
  S2DM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3,
             "attention expects q [B,N,C], k [B,M,C], v [B,M,D]; got q {}, k {}, v {}", q.str(),
             k.str(), v.str());
  S2DM_CHECK(k.size(0) == q.size(0) && v.size(0) == q.size(0),
             "attention: batch sizes differ: q {}, k {}, v {}", q.str(), k.str(), v.str());
  S2DM_CHECK(k.size(2) == q.size(2), "attention: q has {} channels but k has {} (q {}, k {})",
             q.size(2), k.size(2), q.str(), k.str());
  S2DM_CHECK(v.size(1) == k.size(1), "attention: {} keys but {} values (k {}, v {})", k.size(1),
             v.size(1), k.str(), v.str());
  S2DM_CHECK(q.size(1) > 0 && k.size(1) > 0 && q.size(2) > 0 && v.size(2) > 0,
             "attention: empty sequence or channel dim: q {}, k {}, v {}", q.str(), k.str(),
             v.str());
  S2DM_CHECK(std::isfinite(scale), "attention: scale must be finite, got {}", scale);
  const double s = scale == 0.0 ? 1.0 / std::sqrt(static_cast<double>(q.size(2))) : scale;

  Tensor qc = detail::data_of(q), kc = detail::data_of(k), vc = detail::data_of(v);
  Tensor o = detail::empty_as(qc, {q.size(0), q.size(1), v.size(2)});
  Tensor lse = detail::empty_as(qc, {q.size(0), q.size(1)});
  backend_of(qc).attention_forward(qc, kc, vc, s, o, lse);
  if (needs_grad({q, k, v})) {
    auto n = std::make_shared<AttentionBackward>();
    n->q = qc;
    n->k = kc;
    n->v = vc;
    n->o = o.detach();
    n->lse = lse;
    n->scale = s;
    record(o, n, {q, k, v});
  }
  return o;
}

}  // namespace s2dm
