// libFuzzer target: s2dm::load_npy on arbitrary bytes (s2dm-sample --init-noise reads .npy files).
#include <cstddef>
#include <cstdint>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = s2dm::fuzz::write_file("input.npy", data, size);
  try {
    s2dm::load_npy(path);
  } catch (const s2dm::Error&) {
  }
  return 0;
}
