// libFuzzer target: s2dm::read_image (PNG/JPEG and whatever else stb_image decodes) on arbitrary
// bytes. The requested channel count (0 = as stored, 1..4 = converted) is taken from the input
// length, so one corpus exercises every conversion without spending input bytes on it.
#include <cstddef>
#include <cstdint>

#include "engine/error.h"
#include "engine/io/image.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = s2dm::fuzz::write_file("input.png", data, size);
  try {
    const s2dm::ImageU8 img = s2dm::read_image(path, static_cast<int>(size % 5));
    // The invariant callers rely on: the pixel buffer is exactly H x W x C.
    if (img.pixels.size() !=
        static_cast<size_t>(img.height) * static_cast<size_t>(img.width) *
            static_cast<size_t>(img.channels))
      __builtin_trap();
  } catch (const s2dm::Error&) {
  }
  return 0;
}
