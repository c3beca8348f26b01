// Random tensors and dropout.
#include "engine/ops/random.h"

#include "engine/ops/op_util.h"
#include "kernels/philox.h"

namespace s2dm {

uint64_t Generator::take(uint64_t n) {
  const uint64_t at = offset;
  offset += philox::counters_for(n);
  return at;
}

uint64_t Generator::take_rows(uint64_t n, int64_t rows) {
  if (shard_total == 0) return take(n);
  S2DM_CHECK(rows > 0 && shard_begin >= 0 && shard_begin + rows <= shard_total &&
                 n % static_cast<uint64_t>(rows) == 0,
             "sharded draw: rows [{}, {}) of {} with {} values", shard_begin, shard_begin + rows,
             shard_total, n);
  const uint64_t per_row = n / static_cast<uint64_t>(rows);
  // A row must start on a counter boundary for its values to equal the unsharded draw's.
  S2DM_CHECK(per_row % 4 == 0,
             "sharded draw: {} values per sample is not a multiple of 4; data-parallel runs need "
             "per-sample sizes (C*H*W) divisible by 4", per_row);
  const uint64_t at = offset + philox::counters_for(static_cast<uint64_t>(shard_begin) * per_row);
  offset += philox::counters_for(static_cast<uint64_t>(shard_total) * per_row);
  return at;
}

namespace {
int64_t rows_of(const Shape& s) { return s.empty() ? 1 : s[0]; }
}  // namespace

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  backend_of(t).fill_normal(t, gen.seed, gen.take_rows(static_cast<uint64_t>(t.numel()), rows_of(shape)),
                            0.0, 1.0);
  return t;
}

Tensor rand(const Shape& shape, Generator& gen, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  backend_of(t).fill_uniform(t, gen.seed, gen.take_rows(static_cast<uint64_t>(t.numel()), rows_of(shape)),
                             0.0, 1.0);
  return t;
}

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
