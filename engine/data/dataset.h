// Datasets of fixed-size images for training: the Dataset interface and the in-memory dataset that
// the MNIST, CIFAR-10 and image-folder loaders fill.
//
// Invariants: every image of a dataset has the same C x H x W; get() writes values in [-1, 1]
// (a byte p maps to 2 * (p / 255) - 1 computed in float, as the reference PyTorch pipeline does,
// so 0 -> -1 and 255 -> 1 exactly); get() and label() are const and safe to call from several
// threads at once.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int64_t channels() const = 0;
  virtual int64_t height() const = 0;
  virtual int64_t width() const = 0;
  // Writes image `index` (0 <= index < size()) as C x H x W floats in [-1, 1] to out.
  virtual void get(int64_t index, float* out) const = 0;
  // Class label of image `index`, or -1 when the dataset has none.
  virtual int64_t label(int64_t index) const { return -1; }
  // One line for logs and messages: what was loaded, from where, how many and how large.
  virtual std::string describe() const = 0;

  int64_t image_numel() const { return channels() * height() * width(); }
  // The images at `indices` as a float32 [B, C, H, W] CPU tensor.
  Tensor get_batch(const std::vector<int64_t>& indices) const;

 protected:
  void check_index(int64_t index) const;
};

// A byte 0..255 as a value in [-1, 1].
float u8_to_unit(uint8_t p);

// Images held as uint8, image i at pixels[i * C*H*W], channel-major (C x H x W) like get()'s
// output.
class InMemoryDataset final : public Dataset {
 public:
  // labels is empty (no labels) or holds one label per image.
  InMemoryDataset(std::string description, int64_t channels, int64_t height, int64_t width,
                  std::vector<uint8_t> pixels, std::vector<int16_t> labels = {});

  int64_t size() const override { return size_; }
  int64_t channels() const override { return channels_; }
  int64_t height() const override { return height_; }
  int64_t width() const override { return width_; }
  void get(int64_t index, float* out) const override;
  int64_t label(int64_t index) const override;
  std::string describe() const override;
  // The stored bytes of image `index` (C x H x W).
  const uint8_t* image_u8(int64_t index) const;

 private:
  std::string description_;
  int64_t channels_, height_, width_, size_;
  std::vector<uint8_t> pixels_;
  std::vector<int16_t> labels_;
};

}  // namespace s2dm
