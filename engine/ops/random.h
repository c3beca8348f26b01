// Seeded random tensors on the Philox stream (kernels/philox.h).
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace s2dm {

// (seed, offset) state; every draw of n values advances offset by ceil(n/4), so a generator can be
// saved and restored exactly (checkpoints) and two backends draw identical streams.
struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;
  // Data-parallel sharding: while shard_total > 0, a draw of `rows` rows (its first dimension)
  // is rows [shard_begin, shard_begin + rows) of one draw of shard_total rows, so each sample's
  // values depend on its global index alone and N ranks together draw what one process would.
  int64_t shard_begin = 0, shard_total = 0;
  explicit Generator(uint64_t s = 0, uint64_t o = 0) : seed(s), offset(o) {}
  // Reserves the counters for n values and returns the offset to draw them at.
  uint64_t take(uint64_t n);
  // take() for a draw of n values in `rows` rows; honours the shard.
  uint64_t take_rows(uint64_t n, int64_t rows);
};

// Shards `gen` for a scope (see Generator::shard_total) and restores it after.
class GeneratorShard {
 public:
  GeneratorShard(Generator& gen, int64_t begin, int64_t total)
      : gen_(gen), begin_(gen.shard_begin), total_(gen.shard_total) {
    gen.shard_begin = begin;
    gen.shard_total = total;
  }
  ~GeneratorShard() {
    gen_.shard_begin = begin_;
    gen_.shard_total = total_;
  }
  GeneratorShard(const GeneratorShard&) = delete;
  GeneratorShard& operator=(const GeneratorShard&) = delete;

 private:
  Generator& gen_;
  int64_t begin_, total_;
};

// The rows (samples) a draw over `shape` is split into for Generator::take_rows: its first dim.
inline int64_t rows_of(const Shape& shape) { return shape.empty() ? 1 : shape[0]; }

Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::F32,
             Device device = Device::cpu());
Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::F32,
            Device device = Device::cpu());  // uniform (0, 1)

}  // namespace s2dm
