// libFuzzer target: the .npz reader (s2dm::load_npz) on arbitrary bytes, then every array it
// returns converted to a tensor and looked up by name, as consumers of sample archives do.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/error.h"
#include "engine/io/npz.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = s2dm::fuzz::write_file("input.npz", data, size);
  std::vector<s2dm::NpzArray> arrays;
  try {
    arrays = s2dm::load_npz(path);
  } catch (const s2dm::Error&) {
    return 0;
  }
  for (const s2dm::NpzArray& a : arrays) {
    try {
      a.to_tensor();
    } catch (const s2dm::Error&) {
    }
  }
  try {
    s2dm::find_npz_array(arrays, "arr_0", path);
  } catch (const s2dm::Error&) {
  }
  return 0;
}
