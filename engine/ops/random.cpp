// Random tensors.
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

}  // namespace s2dm
