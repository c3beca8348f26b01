// Inverted dropout on the Philox stream: the mask is regenerated in backward from the same
// (seed, offset), never stored.
#include "engine/ops/dropout.h"

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {
struct DropoutBackward final : Node {
  double p = 0;
  uint64_t seed = 0, offset = 0;
  const char* name() const override { return "DropoutBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = detail::data_of(g);
    Tensor dx = detail::empty_like(gc);
    backend_of(gc).dropout_backward(gc, p, seed, offset, dx);
    return {dx};
  }
};
}  // namespace


Tensor dropout(const Tensor& x, double p, Generator& gen, bool training) {
  S2DM_CHECK(p >= 0.0 && p < 1.0, "dropout probability must be in [0, 1), got {}", p);
  if (!training || p == 0.0) return x;
  detail::check_compatible("dropout", {x});
  Tensor xc = detail::data_of(x);
  Tensor y = detail::empty_like(xc);
  const uint64_t offset = gen.take_rows(static_cast<uint64_t>(x.numel()), rows_of(x.shape()));
  backend_of(x).dropout_forward(xc, p, gen.seed, offset, y);
  if (needs_grad({x})) {
    auto n = std::make_shared<DropoutBackward>();
    n->p = p;
    n->seed = gen.seed;
    n->offset = offset;
    record(y, n, {x});
  }
  return y;
}

}  // namespace s2dm
