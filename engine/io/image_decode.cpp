// PNG through libpng's classic API (exact 8-bit output: palettes and low bit depths expanded,
// transparency to alpha, 16-bit samples reduced to their high byte), JPEG through libjpeg-turbo's
// TurboJPEG API. Both decode to the stored gray/RGB(A) and convert to the requested channel count
// with stb's rules, so a dataset reads the same whatever decoder stored it. Before decoding, a
// file must be able to hold the pixels its header announces: decoders otherwise expand every
// announced pixel from missing data.
#include "engine/io/image_decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/error.h"

namespace s2dm {

namespace {

// The fewest bytes any valid file of w x h pixels can have. Decoders expand every announced pixel
// even when the data runs out, so without this a 783-byte JPEG announcing 65039 x 240 pixels
// costs seconds of decoding before the missing data is noticed.
// - JPEG: every 8x8 block of the full-resolution component codes its DC difference with a Huffman
//   code of at least one bit, in baseline and progressive files alike.
// - PNG: deflate expands at most 1032:1 (a 258-byte match in two one-bit codes), and the filtered
//   rows hold at least 1 + ceil(w·channels/8) bytes each (1-bit samples).
uint64_t min_compressed_bytes(bool png, uint64_t w, uint64_t h, uint64_t channels) {
  if (png) return h * (1 + (w * channels + 7) / 8) / 1032;
  return ((w + 7) / 8) * ((h + 7) / 8) / 8;
}

// Every chunk up to IEND must fit in the file, checked before decoding: a 100-byte file declaring
// a 2 GiB chunk is corrupt, and some decoders (stb_image did) allocate the declared size first.
void check_png_chunks(std::string_view b, const std::string& path) {
  const auto be32 = [&](size_t i) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(b[i + k]);
    return v;
  };
  size_t pos = 8;  // after the signature
  while (pos + 8 <= b.size()) {
    const uint64_t length = be32(pos);
    S2DM_CHECK(length <= b.size() - pos - 8,
               "cannot decode image {}: corrupt PNG (a chunk at byte {} declares {} bytes, only {} "
               "follow; remove or replace the file)",
               path, pos, length, b.size() - pos - 8);
    if (b.substr(pos + 4, 4) == "IEND") return;
    pos += 8 + static_cast<size_t>(length) + 4;  // header, data, CRC
  }
}

// stb's conversion between channel counts (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), for the JPEG
// path, which decodes to the stored gray or RGB: gray from RGB with stb's luma weights, alpha 255.
std::vector<uint8_t> convert_channels(const std::vector<uint8_t>& in, int from, int to) {
  if (from == to) return in;
  const size_t n = in.size() / static_cast<size_t>(from);
  std::vector<uint8_t> out(n * static_cast<size_t>(to));
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &in[i * static_cast<size_t>(from)];
    uint8_t* q = &out[i * static_cast<size_t>(to)];
    const bool rgb = from >= 3;
    const uint8_t y = rgb ? static_cast<uint8_t>((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8) : p[0];
    const uint8_t a = from == 2 ? p[1] : from == 4 ? p[3] : uint8_t{255};
    if (to <= 2) {
      q[0] = y;
    } else {
      q[0] = rgb ? p[0] : y;
      q[1] = rgb ? p[1] : y;
      q[2] = rgb ? p[2] : y;
    }
    if (to == 2) q[1] = a;
    if (to == 4) q[3] = a;
  }
  return out;
}

// The image of w x h pixels of `stored` channels, converted to `channels` (0 = as stored).
ImageU8 make_image(uint32_t w, uint32_t h, int stored, int channels,
                   const std::vector<uint8_t>& pixels) {
  ImageU8 img;
  img.height = h;
  img.width = w;
  img.channels = channels != 0 ? channels : stored;
  img.pixels = convert_channels(pixels, stored, img.channels);
  return img;
}

// ---------------------------------------------------------------- PNG

// What the C callbacks and the setjmp frame share. Nothing with a destructor lives in that frame:
// libpng's errors longjmp out of it.
struct PngRead {
  const unsigned char* data = nullptr;
  size_t size = 0, pos = 0;
  char error[256] = {};
};

void png_read_bytes(png_structp png, png_bytep out, size_t n) {
  auto* r = static_cast<PngRead*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "the file ends inside a chunk");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

[[noreturn]] void png_fail(png_structp png, png_const_charp message) {
  auto* r = static_cast<PngRead*>(png_get_error_ptr(png));
  std::snprintf(r->error, sizeof r->error, "%s", message);
  png_longjmp(png, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}  // e.g. benign ancillary-chunk notes

// Decodes into `pixels` (h rows of w·channels bytes; owned by the caller's frame, so a longjmp
// out of this one leaves it to the caller to free); false with r.error set on failure. Width,
// height and the size bound are checked after the header, before any pixel.
bool png_decode(PngRead& r, std::vector<uint8_t>& pixels, uint32_t& w, uint32_t& h,
                int& channels) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_fail, png_ignore_warning);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (png == nullptr || info == nullptr) {
    std::snprintf(r.error, sizeof r.error, "libpng could not start");
    png_destroy_read_struct(png != nullptr ? &png : nullptr, nullptr, nullptr);
    return false;
  }
  png_bytep* volatile rows = nullptr;
  if (setjmp(png_jmpbuf(png))) {
    std::free(rows);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &r, png_read_bytes);
  png_set_chunk_malloc_max(png, size_t{64} << 20);
  png_read_info(png, info);
  w = png_get_image_width(png, info);
  h = png_get_image_height(png, info);
  const uint64_t announced = uint64_t{w} * uint64_t{h};
  if (announced > kMaxImagePixels) {
    std::snprintf(r.error, sizeof r.error,
                  "its header announces %ux%u pixels, more than the %llu s2dm reads (corrupt "
                  "file?)",
                  w, h, static_cast<unsigned long long>(kMaxImagePixels));
    png_longjmp(png, 1);
  }
  const uint64_t need = min_compressed_bytes(true, w, h, png_get_channels(png, info));
  if (r.size < need) {
    std::snprintf(r.error, sizeof r.error,
                  "its header announces %ux%u pixels, which take at least %llu bytes to encode, "
                  "but the file has %zu (truncated or corrupt)",
                  w, h, static_cast<unsigned long long>(need), r.size);
    png_longjmp(png, 1);
  }
  const int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  channels = png_get_channels(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  pixels.resize(row_bytes * h);  // sized by the checks above (at most 2^26 pixels of 4 bytes)
  rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * h));
  if (rows == nullptr) png_error(png, "out of memory");
  for (uint32_t y = 0; y < h; ++y) rows[y] = pixels.data() + y * row_bytes;
  png_read_image(png, rows);
  std::free(rows);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

struct TjDeleter {
  void operator()(void* h) const { tjDestroy(h); }
};

}  // namespace

// Decodes a JPEG with libjpeg-turbo: any warning (corrupt or truncated data) is an error, and
// progressive files are limited to 500 scans (TJFLAG_LIMITSCANS), so a small file cannot make
// the decoder loop over the image thousands of times.
ImageU8 decode_jpeg(const std::string& bytes, const std::string& path, int channels) {
  std::unique_ptr<void, TjDeleter> tj(tjInitDecompress());
  S2DM_CHECK(tj != nullptr, "cannot decode image {}: libjpeg-turbo could not start ({})", path,
             tjGetErrorStr2(nullptr));
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  const auto corrupt = [&](const char* stage) {
    fail("cannot decode image {}: corrupt JPEG ({}: {}; remove or replace the file)", path, stage,
         tjGetErrorStr2(tj.get()));
  };
  if (tjDecompressHeader3(tj.get(), data, size, &w, &h, &subsamp, &colorspace) != 0)
    corrupt("header");
  const uint64_t pixels_announced = static_cast<uint64_t>(w) * static_cast<uint64_t>(h);
  S2DM_CHECK(w > 0 && h > 0 && pixels_announced <= kMaxImagePixels,
             "cannot decode image {}: its header announces {}x{} pixels, more than the {} "
             "s2dm reads (corrupt file?)",
             path, w, h, kMaxImagePixels);
  const uint64_t need = min_compressed_bytes(false, static_cast<uint64_t>(w),
                                             static_cast<uint64_t>(h), 1);
  S2DM_CHECK(bytes.size() >= need,
             "cannot decode image {}: its header announces {}x{} pixels, which take at least {} "
             "bytes to encode, but the file has {} (truncated or corrupt; remove or replace the "
             "file)",
             path, w, h, need, bytes.size());
  const bool gray = colorspace == TJCS_GRAY;
  const int stored = gray ? 1 : 3;
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * static_cast<size_t>(h) *
                              static_cast<size_t>(stored));
  if (tjDecompress2(tj.get(), data, size, pixels.data(), w, 0, h, gray ? TJPF_GRAY : TJPF_RGB,
                    TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    corrupt("data");
  return make_image(static_cast<uint32_t>(w), static_cast<uint32_t>(h), stored, channels,
                    pixels);
}

ImageU8 decode_png(const std::string& bytes, const std::string& path, int channels) {
  check_png_chunks(bytes, path);
  PngRead r;
  r.data = reinterpret_cast<const unsigned char*>(bytes.data());
  r.size = bytes.size();
  std::vector<uint8_t> pixels;
  uint32_t w = 0, h = 0;
  int stored = 0;
  if (!png_decode(r, pixels, w, h, stored))
    fail("cannot decode image {}: corrupt PNG ({}; remove or replace the file)", path, r.error);
  return make_image(w, h, stored, channels, pixels);
}

}  // namespace s2dm
