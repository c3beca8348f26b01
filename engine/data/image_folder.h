// A folder of PNG/JPEG images (CelebA, LSUN exports, ...) as a dataset.
//
// Invariants: files are those ending in .png, .jpg or .jpeg (any case) that are not hidden,
// sorted by their path relative to the folder (byte order), so the index of an image does not
// depend on the file system; other files are ignored. Each image is decoded to RGB (or gray),
// optionally cropped to a square, then resized to resolution x resolution; every image must come
// out the same size, and any file that cannot be decoded or does not fit is an error naming it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/io/image.h"

namespace s2dm {

struct ImageFolderOptions {
  std::string dir;
  bool recursive = false;  // include images in subfolders
  bool grayscale = false;  // 1 channel instead of RGB
  // Square crop of this size (0: none). The crop is centred on each axis whose offset is -1;
  // e.g. the DDIM CelebA pipeline is crop_size 128, crop_top 57, crop_left 25, resolution 64.
  int64_t crop_size = 0;
  int64_t crop_top = -1;
  int64_t crop_left = -1;
  // Output side length (0: keep the size after cropping). Resizing needs a square input.
  int64_t resolution = 0;
  // Decode everything once at construction (in parallel) and keep uint8 pixels in memory
  // (202599 CelebA images at 64x64 are 2.5 GB); otherwise decode on every get().
  bool preload = true;
};

class ImageFolderDataset final : public Dataset {
 public:
  explicit ImageFolderDataset(ImageFolderOptions options);

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  int64_t channels() const override { return channels_; }
  int64_t height() const override { return height_; }
  int64_t width() const override { return width_; }
  void get(int64_t index, float* out) const override;
  std::string describe() const override;

  const std::vector<std::string>& files() const { return files_; }
  // Image `index` after decoding, cropping and resizing (H x W x C bytes).
  ImageU8 load(int64_t index) const;

 private:
  ImageFolderOptions options_;
  std::vector<std::string> files_;
  int64_t channels_ = 0, height_ = 0, width_ = 0;
  std::vector<uint8_t> pixels_;  // preloaded images, each C x H x W
};

}  // namespace s2dm
