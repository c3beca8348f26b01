// libFuzzer target: s2dm::load_safetensors on arbitrary bytes, as checkpoints are read by
// s2dm-train --resume (native dtypes) and s2dm-sample (everything converted to F32).
#include <cstddef>
#include <cstdint>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = s2dm::fuzz::write_file("input.safetensors", data, size);
  try {
    s2dm::load_safetensors(path);
  } catch (const s2dm::Error&) {
    return 0;
  }
  // A file that loads must also load with the conversion the sampler asks for.
  try {
    s2dm::load_safetensors(path, s2dm::DType::F32);
  } catch (const s2dm::Error&) {
  }
  return 0;
}
