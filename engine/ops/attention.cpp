// attention(q, k, v, scale) and its channel-first form: validation, the backend call and the
// autograd node.
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
  bool channels_first = false;
  const char* name() const override { return "AttentionBackward"; }
  void release() override { q = k = v = o = lse = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dq, dk, dv;
    if (next[0].fn) dq = detail::empty_like(q);
    if (next[1].fn) dk = detail::empty_like(k);
    if (next[2].fn) dv = detail::empty_like(v);
    if (!dq.defined() && !dk.defined() && !dv.defined()) return {dq, dk, dv};
    Backend& be = backend_of(q);
    if (channels_first)
      be.attention_channels_first_backward(q, k, v, o, lse, detail::data_of(g), scale, dq, dk, dv);
    else
      be.attention_backward(q, k, v, o, lse, detail::data_of(g), scale, dq, dk, dv);
    return {dq, dk, dv};
  }
};

// Shared by both layouts: `seq` is the dim holding positions (1 for tokens, 2 for channels
// first), `feat` the one holding features.
Tensor attention_impl(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                      bool channels_first) {
  const char* layout = channels_first ? "q [B,C,N], k [B,C,M], v [B,D,M]"
                                      : "q [B,N,C], k [B,M,C], v [B,M,D]";
  const int seq = channels_first ? 2 : 1, feat = channels_first ? 1 : 2;
  S2DM_CHECK(q.defined() && k.defined() && v.defined(), "attention: q, k and v must all be given");
  detail::check_compatible("attention", {q, k, v});
  S2DM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3,
             "attention expects {}; got q {}, k {}, v {}", layout, q.str(), k.str(), v.str());
  S2DM_CHECK(k.size(0) == q.size(0) && v.size(0) == q.size(0),
             "attention: batch sizes differ: q {}, k {}, v {}", q.str(), k.str(), v.str());
  S2DM_CHECK(k.size(feat) == q.size(feat),
             "attention: q has {} channels but k has {} (q {}, k {})", q.size(feat), k.size(feat),
             q.str(), k.str());
  S2DM_CHECK(v.size(seq) == k.size(seq), "attention: {} keys but {} values (k {}, v {})",
             k.size(seq), v.size(seq), k.str(), v.str());
  S2DM_CHECK(q.size(seq) > 0 && k.size(seq) > 0 && q.size(feat) > 0 && v.size(feat) > 0,
             "attention: empty sequence or channel dim: q {}, k {}, v {}", q.str(), k.str(),
             v.str());
  S2DM_CHECK(std::isfinite(scale), "attention: scale must be finite, got {}", scale);
  const double s = scale == 0.0 ? 1.0 / std::sqrt(static_cast<double>(q.size(feat))) : scale;

  Tensor qc = detail::data_of(q), kc = detail::data_of(k), vc = detail::data_of(v);
  const int64_t b = q.size(0), n = q.size(seq), d = v.size(feat);
  Tensor o = detail::empty_as(qc, channels_first ? Shape{b, d, n} : Shape{b, n, d});
  Tensor lse = detail::empty_as(qc, {b, n});
  if (channels_first)
    backend_of(qc).attention_channels_first_forward(qc, kc, vc, s, o, lse);
  else
    backend_of(qc).attention_forward(qc, kc, vc, s, o, lse);
  if (needs_grad({q, k, v})) {
    auto node = std::make_shared<AttentionBackward>();
    node->channels_first = channels_first;
    node->q = qc;
    node->k = kc;
    node->v = vc;
    node->o = o.detach();
    node->lse = lse;
    node->scale = s;
    record(o, node, {q, k, v});
  }
  return o;
}

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  return attention_impl(q, k, v, scale, false);
}

Tensor attention_channels_first(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  return attention_impl(q, k, v, scale, true);
}

}  // namespace s2dm
