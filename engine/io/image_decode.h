// Decoding PNG and JPEG files with Debian's libraries (libpng, libjpeg-turbo), which are fuzzed
// continuously upstream. Internal to engine/io: read_image (image.h) is the public entry point.
#pragma once
#include <string>

#include "engine/io/image.h"

namespace s2dm {

// Larger images are refused before decoding (64 megapixels: far beyond any training image).
inline constexpr uint64_t kMaxImagePixels = uint64_t{1} << 26;

// channels as read_image takes them (0 = as stored). Errors name `path`.
ImageU8 decode_png(const std::string& bytes, const std::string& path, int channels);
ImageU8 decode_jpeg(const std::string& bytes, const std::string& path, int channels);

}  // namespace s2dm
