// CIFAR-10 binary batches read whole into memory (50000 images are 150 MiB).
#include "engine/data/cifar10.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace {

constexpr size_t kPixels = 3 * 32 * 32;
constexpr size_t kRecord = 1 + kPixels;

std::vector<std::string> split_files(const Cifar10Options& options) {
  S2DM_CHECK(!options.dir.empty(),
             "CIFAR-10: no data directory given; pass the folder holding data_batch_1.bin .. "
             "data_batch_5.bin and test_batch.bin (from cifar-10-binary.tar.gz)");
  S2DM_CHECK(options.split == "train" || options.split == "test",
             "unknown CIFAR-10 split '{}'; use 'train' or 'test'", options.split);
  std::filesystem::path dir = options.dir;
  S2DM_CHECK(std::filesystem::is_directory(dir), "CIFAR-10 data directory {} does not exist",
             options.dir);
  if (std::filesystem::is_directory(dir / "cifar-10-batches-bin")) dir /= "cifar-10-batches-bin";
  std::vector<std::string> files;
  if (options.split == "train") {
    for (int i = 1; i <= 5; ++i)
      files.push_back((dir / fmt::format("data_batch_{}.bin", i)).string());
  } else {
    files.push_back((dir / "test_batch.bin").string());
  }
  for (const std::string& f : files)
    S2DM_CHECK(std::filesystem::is_regular_file(f),
               "CIFAR-10 file {} is missing; extract cifar-10-binary.tar.gz into {}", f,
               options.dir);
  return files;
}

}  // namespace

std::shared_ptr<InMemoryDataset> load_cifar10(const Cifar10Options& options) {
  const std::vector<std::string> files =
      options.files.empty() ? split_files(options) : options.files;
  std::vector<uint8_t> pixels;
  std::vector<int16_t> labels;
  for (const std::string& path : files) {
    const std::string bytes = read_file(path);
    S2DM_CHECK(!bytes.empty() && bytes.size() % kRecord == 0,
               "{} is not a CIFAR-10 binary batch: its {} bytes are not a positive multiple of the "
               "{}-byte record (1 label + 3072 pixels); the file is truncated or of another "
               "format (use the binary version, cifar-10-binary.tar.gz)",
               path, bytes.size(), kRecord);
    const size_t n = bytes.size() / kRecord;
    pixels.reserve(pixels.size() + n * kPixels);
    for (size_t r = 0; r < n; ++r) {
      const char* rec = bytes.data() + r * kRecord;
      const auto label = static_cast<unsigned char>(rec[0]);
      S2DM_CHECK(label < 10,
                 "{}: record {} has label {}; CIFAR-10 labels are 0..9 (is this a CIFAR-100 "
                 "file?)",
                 path, r, static_cast<int>(label));
      labels.push_back(static_cast<int16_t>(label));
      pixels.insert(pixels.end(), reinterpret_cast<const uint8_t*>(rec + 1),
                    reinterpret_cast<const uint8_t*>(rec + kRecord));
    }
  }
  const std::string where =
      files.size() == 1 ? files[0] : fmt::format("{} .. {}", files.front(), files.back());
  return std::make_shared<InMemoryDataset>("CIFAR-10 (" + where + ")", 3, 32, 32, std::move(pixels),
                                           std::move(labels));
}

}  // namespace s2dm
