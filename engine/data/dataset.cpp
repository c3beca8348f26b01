// Dataset helpers and the in-memory uint8 dataset.
#include "engine/data/dataset.h"

#include <array>

#include "engine/error.h"

namespace s2dm {

namespace {

// Both steps in float, like ToTensor (p / 255) followed by the reference code's 2 * x - 1; the
// multiplication by 2 is exact, so contraction into an FMA cannot change the result.
std::array<float, 256> make_unit_table() {
  std::array<float, 256> t{};
  for (int p = 0; p < 256; ++p)
    t[static_cast<size_t>(p)] = 2.0f * (static_cast<float>(p) / 255.0f) - 1.0f;
  return t;
}

const std::array<float, 256>& unit_table() {
  static const std::array<float, 256> table = make_unit_table();
  return table;
}

}  // namespace

float u8_to_unit(uint8_t p) { return unit_table()[p]; }

void Dataset::check_index(int64_t index) const {
  S2DM_CHECK(index >= 0 && index < size(), "image index {} is out of range for {}", index,
             describe());
}

Tensor Dataset::get_batch(const std::vector<int64_t>& indices) const {
  Tensor t = Tensor::empty({static_cast<int64_t>(indices.size()), channels(), height(), width()},
                           DType::F32);
  float* out = t.data<float>();
  for (size_t i = 0; i < indices.size(); ++i)
    get(indices[i], out + static_cast<int64_t>(i) * image_numel());
  return t;
}

InMemoryDataset::InMemoryDataset(std::string description, int64_t channels, int64_t height,
                                 int64_t width, std::vector<uint8_t> pixels,
                                 std::vector<int16_t> labels)
    : description_(std::move(description)),
      channels_(channels),
      height_(height),
      width_(width),
      size_(0),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)) {
  S2DM_CHECK(channels > 0 && height > 0 && width > 0, "{}: invalid image size {}x{}x{}",
             description_, channels, height, width);
  const auto per_image = static_cast<size_t>(channels * height * width);
  S2DM_CHECK(pixels_.size() % per_image == 0,
             "{}: {} bytes are not a whole number of {}x{}x{} "
             "images",
             description_, pixels_.size(), channels, height, width);
  size_ = static_cast<int64_t>(pixels_.size() / per_image);
  S2DM_CHECK(labels_.empty() || static_cast<int64_t>(labels_.size()) == size_,
             "{}: {} labels for {} images", description_, labels_.size(), size_);
}

void InMemoryDataset::get(int64_t index, float* out) const {
  check_index(index);
  const uint8_t* src = image_u8(index);
  const std::array<float, 256>& table = unit_table();
  const int64_t n = image_numel();
  for (int64_t i = 0; i < n; ++i) out[i] = table[src[i]];
}

int64_t InMemoryDataset::label(int64_t index) const {
  check_index(index);
  return labels_.empty() ? -1 : labels_[static_cast<size_t>(index)];
}

std::string InMemoryDataset::describe() const {
  return fmt::format("{}: {} images of {}x{}x{}", description_, size_, channels_, height_, width_);
}

const uint8_t* InMemoryDataset::image_u8(int64_t index) const {
  return pixels_.data() + index * image_numel();
}

}  // namespace s2dm
