// libFuzzer target: the MNIST-format (IDX) reader, raw or gzip (zlib tells them apart by content).
// load_mnist reads fixed file names from a directory, so the input becomes the images file of
// split "train" there, with a labels file chosen by the input: none, one matching the count the
// header announces, or one whose count is off by one. The input is then also read as a labels
// file, so the label parser sees fuzzed bytes too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/mnist.h"
#include "engine/error.h"
#include "fuzz/fuzz_common.h"

namespace {

// The header's image count, from the raw bytes; 0 when the input is short or compressed (a
// matching labels file is then only a guess, which is fine: mismatches must be errors too).
uint32_t announced_count(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  return (uint32_t{data[4]} << 24) | (uint32_t{data[5]} << 16) | (uint32_t{data[6]} << 8) |
         uint32_t{data[7]};
}

std::string labels_file(uint32_t count) {
  std::string b = {0, 0, 8, 1};  // magic 2049
  for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>((count >> shift) & 0xffu);
  for (uint32_t i = 0; i < count; ++i) b += static_cast<char>(i % 10);
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = s2dm::fuzz;
  fz::write_file("train-images-idx3-ubyte", data, size);
  // Label files are built in memory, so only counts a real file could have are used.
  constexpr uint32_t kMaxLabels = 1u << 16;
  const uint32_t count = announced_count(data, size);
  const unsigned mode = size % 3;
  if (mode == 0 || count > kMaxLabels) {
    fz::remove_file("train-labels-idx1-ubyte");
  } else {
    fz::write_file("train-labels-idx1-ubyte", labels_file(mode == 1 ? count : count + 1));
  }
  s2dm::MnistOptions options;
  options.dir = fz::scratch_dir().string();
  options.split = "train";
  try {
    const auto ds = s2dm::load_mnist(options);
    // A file of zero images may announce any image size; only real images are allocated.
    std::vector<float> image(ds->size() > 0 ? static_cast<size_t>(ds->image_numel()) : 0);
    for (int64_t i = 0; i < ds->size(); ++i) {
      ds->get(i, image.data());
      ds->label(i);
    }
  } catch (const s2dm::Error&) {
  }
  try {
    s2dm::read_idx_labels((fz::scratch_dir() / "train-images-idx3-ubyte").string());
  } catch (const s2dm::Error&) {
  }
  return 0;
}
