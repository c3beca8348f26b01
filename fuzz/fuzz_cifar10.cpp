// libFuzzer target: the CIFAR-10 binary batch reader (s2dm::load_cifar10) on arbitrary bytes
// given as the one batch file, and every image of a dataset that loads.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/data/cifar10.h"
#include "engine/error.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  s2dm::Cifar10Options options;
  options.files = {s2dm::fuzz::write_file("data_batch_1.bin", data, size)};
  try {
    const auto ds = s2dm::load_cifar10(options);
    std::vector<float> image(static_cast<size_t>(ds->image_numel()));
    for (int64_t i = 0; i < ds->size(); ++i) {
      ds->get(i, image.data());
      ds->label(i);
    }
  } catch (const s2dm::Error&) {
  }
  return 0;
}
