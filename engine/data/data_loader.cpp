// DataLoader: Philox-keyed permutations and flips, batch assembly in parallel over samples.
//
// Counter layout (64 bits): [63:62] purpose (2 = order, 3 = flip), [61:36] epoch, [35:0] the
// sample's index in the epoch divided by the values one counter yields.
#include "engine/data/data_loader.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "engine/error.h"
#include "kernels/philox.h"

namespace s2dm {

namespace {

constexpr uint64_t kOrderPurpose = uint64_t{2} << 62;
constexpr uint64_t kFlipPurpose = uint64_t{3} << 62;
constexpr int kEpochShift = 36;
constexpr int64_t kMaxEpoch = (int64_t{1} << 26) - 1;
constexpr int64_t kMaxSize = int64_t{1} << 36;

uint64_t counter(uint64_t purpose, int64_t epoch, uint64_t slot) {
  return purpose | (static_cast<uint64_t>(epoch) << kEpochShift) | slot;
}

void mirror(float* img, int64_t c, int64_t h, int64_t w) {
  for (int64_t r = 0; r < c * h; ++r) std::reverse(img + r * w, img + (r + 1) * w);
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  S2DM_CHECK(dataset_ != nullptr, "DataLoader: no dataset");
  S2DM_CHECK(options_.batch_size > 0, "DataLoader: batch size must be positive, got {}",
             options_.batch_size);
  const int64_t n = dataset_->size();
  S2DM_CHECK(n > 0, "DataLoader: {} is empty", dataset_->describe());
  S2DM_CHECK(n < kMaxSize, "DataLoader: {} has too many images", dataset_->describe());
  S2DM_CHECK(!options_.drop_last || n >= options_.batch_size,
             "DataLoader: {} has fewer images than one batch of {}; lower the batch size",
             dataset_->describe(), options_.batch_size);
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  S2DM_CHECK(epoch >= 0 && epoch <= kMaxEpoch, "DataLoader: epoch {} is out of range 0..{}", epoch,
             kMaxEpoch);
  const int64_t n = dataset_->size();
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  if (!options_.shuffle) return idx;
  // Sorting by 64-bit random keys gives a uniform permutation without modulo bias; the index
  // breaks the (astronomically rare) ties deterministically.
  std::vector<std::pair<uint64_t, int64_t>> keyed(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i += 2) {
    const philox::Words r = philox::philox4x32_10(
        counter(kOrderPurpose, epoch, static_cast<uint64_t>(i / 2)), options_.seed);
    keyed[static_cast<size_t>(i)] = {(uint64_t{r.w[1]} << 32) | r.w[0], i};
    if (i + 1 < n) keyed[static_cast<size_t>(i + 1)] = {(uint64_t{r.w[3]} << 32) | r.w[2], i + 1};
  }
  std::sort(keyed.begin(), keyed.end());
  for (int64_t i = 0; i < n; ++i)
    idx[static_cast<size_t>(i)] = keyed[static_cast<size_t>(i)].second;
  return idx;
}

bool DataLoader::flip(int64_t epoch, int64_t position) const {
  if (!options_.random_flip) return false;
  const philox::Words r = philox::philox4x32_10(
      counter(kFlipPurpose, epoch, static_cast<uint64_t>(position / 4)), options_.seed);
  return (r.w[position % 4] >> 31) != 0;
}

void DataLoader::seek(int64_t epoch, int64_t position) {
  S2DM_CHECK(epoch >= 0 && epoch <= kMaxEpoch, "DataLoader: epoch {} is out of range 0..{}", epoch,
             kMaxEpoch);
  S2DM_CHECK(position >= 0 && position <= dataset_->size(),
             "DataLoader: position {} is out of range 0..{} for {}", position, dataset_->size(),
             dataset_->describe());
  epoch_ = epoch;
  position_ = position;
  normalize();
}

void DataLoader::normalize() {
  const int64_t n = dataset_->size();
  const int64_t need = options_.drop_last ? options_.batch_size : 1;
  if (position_ + need > n) {
    S2DM_CHECK(epoch_ < kMaxEpoch, "DataLoader: ran past the last supported epoch {}", kMaxEpoch);
    ++epoch_;
    position_ = 0;
  }
}

const std::vector<int64_t>& DataLoader::cached_order() {
  if (cached_epoch_ != epoch_) {
    order_ = order(epoch_);
    cached_epoch_ = epoch_;
  }
  return order_;
}

Batch DataLoader::next_slice(int64_t begin, int64_t count) {
  S2DM_CHECK(begin >= 0 && count >= 0, "DataLoader: bad slice [{}, +{})", begin, count);
  normalize();
  const std::vector<int64_t>& ord = cached_order();
  const int64_t n = dataset_->size();
  const int64_t whole = std::min(options_.batch_size, n - position_);
  const int64_t first = position_ + std::min(begin, whole);
  const int64_t b = std::min(count, position_ + whole - first);
  const int64_t c = dataset_->channels(), h = dataset_->height(), w = dataset_->width();
  const int64_t per = c * h * w;
  Batch batch;
  batch.epoch = epoch_;
  batch.position = first;
  batch.images = Tensor::empty({b, c, h, w}, DType::F32);
  batch.indices.assign(ord.begin() + first, ord.begin() + first + b);
  batch.flipped.resize(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i)
    batch.flipped[static_cast<size_t>(i)] = flip(epoch_, first + i) ? 1 : 0;

  float* out = batch.images.data<float>();
  // Datasets decoding files on demand make per-sample work worth spreading over threads;
  // exceptions cannot leave the parallel region, so the lowest failing sample's is rethrown.
  int64_t bad = b;
  std::string message;
#pragma omp parallel for schedule(dynamic, 4) if (b > 1)
  for (int64_t i = 0; i < b; ++i) {
    try {
      float* img = out + i * per;
      dataset_->get(batch.indices[static_cast<size_t>(i)], img);
      if (batch.flipped[static_cast<size_t>(i)]) mirror(img, c, h, w);
    } catch (const std::exception& e) {
#pragma omp critical(s2dm_data_loader_error)
      if (i < bad) {
        bad = i;
        message = e.what();
      }
    }
  }
  if (bad < b) throw Error(message);
  position_ += whole;
  normalize();
  return batch;
}

}  // namespace s2dm
