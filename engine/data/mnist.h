// MNIST-format (IDX) data sets: Fashion-MNIST and MNIST, raw or gzip-compressed.
//
// Invariants: IDX headers are checked (magic 2051 for images, 2049 for labels, big-endian
// dimensions) and the payload must be exactly the announced size, so truncated or padded files
// fail with the file named. Images are padded with background (pixel 0, i.e. -1) on every side,
// 28x28 becoming 32x32 with the default pad of 2, so the UNet's four downsamplings divide evenly.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace s2dm {

struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count x rows x cols
};

// The whole file, decompressed when it is gzip (.gz or not: zlib detects the format).
std::string read_maybe_gzip(const std::string& path);
IdxImages read_idx_images(const std::string& path);
std::vector<uint8_t> read_idx_labels(const std::string& path);

struct MnistOptions {
  std::string dir = "/usr/share/datasets/fashion-mnist";
  std::string split = "train";  // "train" (60000 images) or "t10k" (10000; "test" is accepted)
  int64_t pad = 2;              // background pixels added on each side
};

// Loads <dir>/<split>-images-idx3-ubyte (or the same name + ".gz") and, when present, the
// matching labels file <split>-labels-idx1-ubyte[.gz].
std::shared_ptr<InMemoryDataset> load_mnist(const MnistOptions& options = {});

}  // namespace s2dm
