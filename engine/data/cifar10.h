// CIFAR-10 in its binary distribution (cifar-10-binary.tar.gz): files of 10000 records, each one
// label byte (0..9) followed by 3072 pixel bytes, the red, green and blue 32x32 planes in turn.
//
// Invariants: every file must be a non-empty multiple of 3073 bytes with labels below 10 (this
// also rejects CIFAR-100 files, whose records carry two label bytes); the planes are stored
// unchanged, which is already the C x H x W layout get() returns.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace s2dm {

struct Cifar10Options {
  // Folder with data_batch_1.bin .. data_batch_5.bin and test_batch.bin, or the folder that
  // contains the extracted cifar-10-batches-bin/.
  std::string dir;
  std::string split = "train";     // "train" (data_batch_1..5) or "test" (test_batch)
  std::vector<std::string> files;  // when non-empty, these files in this order; dir/split unused
};

std::shared_ptr<InMemoryDataset> load_cifar10(const Cifar10Options& options);

}  // namespace s2dm
