// The sinusoidal timestep embedding as a differentiable op (gradient with respect to t).
//
// Validation lives here; the backend computes [sin(t f) | cos(t f)] (plus a zero column for odd
// dims) and its derivative, with the frequencies rounded to t's dtype.
#include "engine/ops/embedding.h"

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct TimestepEmbeddingBackward final : Node {
  Tensor t;
  int64_t dim = 0;
  const char* name() const override { return "TimestepEmbeddingBackward"; }
  void release() override { t = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = detail::data_of(g);
    Tensor dt = detail::empty_like(t);
    backend_of(gc).timestep_embedding_backward(t, dim, gc, dt);
    return {dt};
  }
};

}  // namespace

Tensor timestep_embedding(const Tensor& t, int64_t dim) {
  detail::check_compatible("timestep_embedding", {t});
  S2DM_CHECK(t.dim() == 1, "timestep_embedding: t must be 1-D [N], got {}", t.str());
  // half - 1 is the divisor in the frequency exponent, so half must be at least 2.
  S2DM_CHECK(dim >= 4, "timestep_embedding: dim must be at least 4, got {}", dim);
  Tensor tc = detail::data_of(t);
  Tensor out = detail::empty_as(tc, {t.size(0), dim});
  backend_of(tc).timestep_embedding_forward(tc, dim, out);
  if (needs_grad({t})) {
    auto n = std::make_shared<TimestepEmbeddingBackward>();
    n->t = tc;
    n->dim = dim;
    record(out, n, {t});
  }
  return out;
}

}  // namespace s2dm
