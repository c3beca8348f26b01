// Images to evaluate, from any of the places s2dm keeps them, handed out in batches as float32
// [B, C, H, W] holding byte / 255 — what pytorch-fid's ToTensor gives the network.
//
// A source is named by one string (s2dm-fid's inputs):
//   fmnist, mnist, cifar10 [":train" | ":test"]  a data set as s2dm-train reads it (Fashion-MNIST and
//                                    MNIST padded to 32×32 like the training images; data_path
//                                    overrides the folder; cifar10 needs it)
//   DIR                              a folder of PNG/JPEG images, all of one size, decoded to RGB
//   FILE.npz                         uint8 images N×H×W×C (C = 1 or 3) or N×H×W under arr_0, as
//                                    s2dm-sample --npz and the usual FID tools write them
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/tensor.h"

namespace s2dm {

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual int64_t size() const = 0;
  virtual int64_t channels() const = 0;
  virtual int64_t height() const = 0;
  virtual int64_t width() const = 0;
  // Images [begin, end) as a float32 CPU tensor [end − begin, C, H, W] of byte / 255.
  virtual Tensor batch(int64_t begin, int64_t end) const = 0;
  // One line naming what was read, how many images and their size.
  virtual std::string describe() const = 0;
};

// Opens the source `spec` names (see above); a clear error for an empty folder, mixed image
// sizes, a malformed .npz or an unknown name. data_path: the data set's folder ("" = default);
// gray_folders: decode a folder's images to one channel instead of RGB (for a grayscale feature
// network; a gray PNG then reads back exactly).
std::unique_ptr<ImageSource> open_image_source(const std::string& spec,
                                               const std::string& data_path = "",
                                               bool gray_folders = false);

// Whether `path` is an .npz of FID statistics (members mu and sigma) rather than of images.
bool is_stats_npz(const std::string& path);

}  // namespace s2dm
