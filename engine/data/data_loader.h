// Batches for training: a seeded per-epoch order over a Dataset, optional random horizontal flips,
// float32 [B, C, H, W] CPU tensors in [-1, 1].
//
// Invariants:
// - Epoch e visits every index exactly once, in order(e): a permutation that depends only on
//   (seed, e) (identity without shuffling), so runs are reproducible and a run resumed with
//   seek(epoch, position) continues exactly where the saved one stopped.
// - Whether the sample at (epoch, position) is flipped depends only on (seed, epoch, position).
// - drop_last (the default): each epoch yields floor(N / B) full batches and the last N mod B
//   samples of its order are skipped; the next epoch starts a fresh order. Without drop_last the
//   last batch of an epoch holds the N mod B remaining samples.
// Randomness uses the Philox stream of kernels/philox.h keyed by the seed, with the counter space
// split by purpose and epoch, so it never overlaps another user of the same seed's offsets
// below 2^62.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/tensor.h"

namespace s2dm {

struct DataLoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool random_flip = false;  // mirror left-right with probability 1/2 (CIFAR-10, CelebA)
  bool drop_last = true;
  uint64_t seed = 0;
};

struct Batch {
  Tensor images;                 // [B, C, H, W] float32 on the CPU
  std::vector<int64_t> indices;  // dataset index of each image
  std::vector<uint8_t> flipped;  // 1 where the image was mirrored
  int64_t epoch = 0;             // the epoch the batch belongs to
  int64_t position = 0;          // position of its first sample in that epoch's order
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options);

  // The next batch; moves on to the next epoch when the current one is exhausted.
  Batch next() { return next_slice(0, options_.batch_size); }
  // Samples [begin, begin + count) of the next batch (clipped to it), advancing past the whole
  // batch: data-parallel ranks each load their own part of the same global batch.
  Batch next_slice(int64_t begin, int64_t count);
  // Where the next batch starts: its epoch and the position in that epoch's order.
  int64_t epoch() const { return epoch_; }
  int64_t position() const { return position_; }
  // Continue from a saved (epoch, position); position may be anything in 0..size().
  void seek(int64_t epoch, int64_t position);

  int64_t batches_per_epoch() const;
  // The permutation epoch `epoch` visits.
  std::vector<int64_t> order(int64_t epoch) const;
  bool flip(int64_t epoch, int64_t position) const;

  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }

 private:
  void normalize();  // roll over to the next epoch when the current one has no batch left
  const std::vector<int64_t>& cached_order();

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0, position_ = 0;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;
};

}  // namespace s2dm
