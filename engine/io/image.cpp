// Image decoding, resampling and encoding on Debian's libraries: JPEG files are decoded by
// libjpeg-turbo (its TurboJPEG API), PNG files by stb_image (libstb), both from memory (the file
// is read with read_file so errors name it); stb_image_write encodes into memory and
// write_file_atomic publishes the bytes; stb_image_resize resamples.
#include "engine/io/image.h"

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace {

void check_image(const ImageU8& image, const std::string& what) {
  S2DM_CHECK(image.channels >= 1 && image.channels <= 4,
             "{}: an image needs 1 to 4 channels, got {}", what, image.channels);
  S2DM_CHECK(image.height > 0 && image.width > 0, "{}: empty image ({}x{})", what, image.height,
             image.width);
  S2DM_CHECK(
      image.pixels.size() == static_cast<size_t>(image.height * image.width * image.channels),
      "{}: {} bytes do not fill a {}x{}x{} image", what, image.pixels.size(), image.height,
      image.width, image.channels);
  // stb's encoders take int dimensions and strides.
  S2DM_CHECK(image.height * image.width * image.channels < std::numeric_limits<int>::max(),
             "{}: a {}x{}x{} image is too large to encode", what, image.height, image.width,
             image.channels);
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

// [B, C, H, W] (or [C, H, W] when batched is false) with C = 1 or 3, as host doubles.
std::vector<double> image_values(const Tensor& t, bool batched, const std::string& what) {
  S2DM_CHECK(t.defined(), "{}: the tensor is undefined", what);
  const int64_t rank = batched ? 4 : 3;
  S2DM_CHECK(t.dim() == rank, "{}: expected a [{}C, H, W] tensor, got {}", what,
             batched ? "B, " : "", t.str());
  const int64_t c = t.size(-3);
  S2DM_CHECK(c == 1 || c == 3, "{}: images need 1 or 3 channels, got {} in {}", what, c, t.str());
  S2DM_CHECK(t.size(-1) > 0 && t.size(-2) > 0, "{}: empty image in {}", what, t.str());
  std::vector<double> v = t.detach().to_vector();
  // NaN would turn into black pixels and ±Inf into saturated ones: a broken sample that looks valid.
  for (size_t i = 0; i < v.size(); ++i)
    S2DM_CHECK(std::isfinite(v[i]), "{}: the image data hold {} (first at element {} of {}); refusing "
               "to write them as pixels", what, std::isnan(v[i]) ? "NaN" : "infinite values", i, t.str());
  return v;
}

// Writes image b of a [B, C, H, W] value array into dst at (y0, x0).
void blit(const std::vector<double>& v, int64_t b, int64_t c, int64_t h, int64_t w, ImageU8& dst,
          int64_t y0, int64_t x0) {
  const double* src = v.data() + b * c * h * w;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        dst.at(y0 + y, x0 + x, ch) = unit_to_u8(src[(ch * h + y) * w + x]);
}

// Larger images are refused before decoding (64 megapixels: far beyond any training image).
constexpr uint64_t kMaxImagePixels = uint64_t{1} << 26;

// stb_image grows its buffer for a PNG's IDAT chunk to the chunk's declared length before
// reading it, so a 100-byte file declaring a 2 GiB chunk allocates 2 GiB. Every chunk up to IEND
// must therefore fit in the file, checked here first (stb reads chunks in this same order).
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

struct TjDeleter {
  void operator()(void* h) const { tjDestroy(h); }
};

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
  ImageU8 img;
  img.height = h;
  img.width = w;
  img.channels = channels != 0 ? channels : stored;
  img.pixels = convert_channels(pixels, stored, img.channels);
  return img;
}

}  // namespace

ImageU8 read_image(const std::string& path, int channels) {
  S2DM_CHECK(channels >= 0 && channels <= 4, "read_image {}: channels must be 0..4, got {}", path,
             channels);
  const std::string bytes = read_file(path);
  S2DM_CHECK(bytes.size() < static_cast<size_t>(std::numeric_limits<int>::max()),
             "{}: image file of {} bytes is too large to decode", path, bytes.size());
  // Only PNG reaches stb: its other decoders (TGA has no signature at all) would take any file,
  // and a few header bytes there announce images that take minutes to expand.
  const bool png = bytes.starts_with("\x89PNG\r\n\x1a\n");
  const bool jpeg = bytes.starts_with("\xff\xd8");
  S2DM_CHECK(png || jpeg,
             "cannot decode image {}: not a PNG or JPEG file (no PNG signature or JPEG SOI "
             "marker; remove or replace the file)",
             path);
  if (jpeg) return decode_jpeg(bytes, path, channels);
  check_png_chunks(bytes, path);
  int w = 0, h = 0, stored = 0;
  // The header's size is checked before decoding: stb decodes every announced pixel even when
  // the data runs out, so a 100-byte JPEG can announce 65535 x 65535 pixels.
  if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                            static_cast<int>(bytes.size()), &w, &h, &stored) != 0) {
    S2DM_CHECK(static_cast<uint64_t>(w) * static_cast<uint64_t>(h) <= kMaxImagePixels,
               "cannot decode image {}: its header announces {}x{} pixels, more than the {} "
               "s2dm reads (corrupt file?)",
               path, w, h, kMaxImagePixels);
    const uint64_t need = min_compressed_bytes(true, static_cast<uint64_t>(w),
                                               static_cast<uint64_t>(h),
                                               static_cast<uint64_t>(std::max(stored, 1)));
    S2DM_CHECK(bytes.size() >= need,
               "cannot decode image {}: its header announces {}x{} pixels, which take at least {} "
               "bytes to encode, but the file has {} (truncated or corrupt; remove or replace "
               "the file)",
               path, w, h, need, bytes.size());
  }
  stbi_uc* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                        static_cast<int>(bytes.size()), &w, &h, &stored, channels);
  if (data == nullptr) {
    const char* why = stbi_failure_reason();
    fail(
        "cannot decode image {}: corrupt PNG ({}; remove or replace the file)",
        path, why != nullptr ? why : "unknown error");
  }
  ImageU8 img;
  img.height = h;
  img.width = w;
  img.channels = channels != 0 ? channels : stored;
  img.pixels.assign(data, data + static_cast<size_t>(h) * static_cast<size_t>(w) *
                                     static_cast<size_t>(img.channels));
  stbi_image_free(data);
  return img;
}

void write_png(const std::string& path, const ImageU8& image) {
  check_image(image, "write_png " + path);
  std::string out;
  const int ok =
      stbi_write_png_to_func(append_bytes, &out, static_cast<int>(image.width),
                             static_cast<int>(image.height), static_cast<int>(image.channels),
                             image.pixels.data(), static_cast<int>(image.width * image.channels));
  S2DM_CHECK(ok != 0 && !out.empty(), "cannot encode {} as PNG", path);
  write_file_atomic(path, out);
}

void write_jpeg(const std::string& path, const ImageU8& image, int quality) {
  check_image(image, "write_jpeg " + path);
  S2DM_CHECK(quality >= 1 && quality <= 100, "write_jpeg {}: quality must be 1..100, got {}", path,
             quality);
  std::string out;
  const int ok = stbi_write_jpg_to_func(
      append_bytes, &out, static_cast<int>(image.width), static_cast<int>(image.height),
      static_cast<int>(image.channels), image.pixels.data(), quality);
  S2DM_CHECK(ok != 0 && !out.empty(), "cannot encode {} as JPEG", path);
  write_file_atomic(path, out);
}

ImageU8 crop_square(const ImageU8& image, int64_t size, int64_t top, int64_t left) {
  check_image(image, "crop_square");
  S2DM_CHECK(size > 0, "crop_square: the crop size must be positive, got {}", size);
  if (top < 0) top = (image.height - size) / 2;
  if (left < 0) left = (image.width - size) / 2;
  S2DM_CHECK(size <= image.height && size <= image.width && top + size <= image.height &&
                 left + size <= image.width,
             "crop_square: a {}x{} crop at (top {}, left {}) does not fit a {}x{} image", size,
             size, top, left, image.height, image.width);
  ImageU8 out;
  out.height = out.width = size;
  out.channels = image.channels;
  out.pixels.resize(static_cast<size_t>(size * size * image.channels));
  const size_t row = static_cast<size_t>(size * image.channels);
  for (int64_t y = 0; y < size; ++y)
    std::copy_n(image.pixels.data() + ((top + y) * image.width + left) * image.channels, row,
                out.pixels.data() + y * size * image.channels);
  return out;
}

ImageU8 resize(const ImageU8& image, int64_t height, int64_t width) {
  check_image(image, "resize");
  S2DM_CHECK(
      height > 0 && width > 0 && height * width * image.channels < std::numeric_limits<int>::max(),
      "resize: invalid target size {}x{}", height, width);
  if (height == image.height && width == image.width) return image;
  ImageU8 out;
  out.height = height;
  out.width = width;
  out.channels = image.channels;
  out.pixels.resize(static_cast<size_t>(height * width * image.channels));
  // Linear colour space: datasets are resized in stored values (as PIL does), not in linear light.
  const int ok = stbir_resize_uint8_generic(
      image.pixels.data(), static_cast<int>(image.width), static_cast<int>(image.height),
      static_cast<int>(image.width * image.channels), out.pixels.data(), static_cast<int>(width),
      static_cast<int>(height), static_cast<int>(width * image.channels),
      static_cast<int>(image.channels), STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
      STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr);
  S2DM_CHECK(ok != 0, "resize: resampling {}x{} to {}x{} failed", image.height, image.width, height,
             width);
  return out;
}

uint8_t unit_to_u8(double x) {
  if (std::isnan(x)) return 0;
  const double v = (std::clamp(x, -1.0, 1.0) + 1.0) * 127.5;
  return static_cast<uint8_t>(std::lround(v));
}

ImageU8 tensor_to_image(const Tensor& chw) {
  const std::vector<double> v = image_values(chw, false, "tensor_to_image");
  ImageU8 img;
  img.channels = chw.size(0);
  img.height = chw.size(1);
  img.width = chw.size(2);
  img.pixels.resize(v.size());
  blit(v, 0, img.channels, img.height, img.width, img, 0, 0);
  return img;
}

ImageU8 make_grid(const Tensor& batch, int64_t nrow, int64_t padding, double pad_value) {
  const std::vector<double> v = image_values(batch, true, "make_grid");
  S2DM_CHECK(nrow > 0 && padding >= 0, "make_grid: need nrow > 0 and padding >= 0, got {} and {}",
             nrow, padding);
  const int64_t n = batch.size(0), c = batch.size(1), h = batch.size(2), w = batch.size(3);
  S2DM_CHECK(n > 0, "make_grid: the batch is empty ({})", batch.str());
  const int64_t cols = std::min(nrow, n);
  const int64_t rows = (n + cols - 1) / cols;
  ImageU8 grid;
  grid.channels = c;
  grid.height = rows * (h + padding) + padding;
  grid.width = cols * (w + padding) + padding;
  grid.pixels.assign(static_cast<size_t>(grid.height * grid.width * c), unit_to_u8(pad_value));
  for (int64_t b = 0; b < n; ++b)
    blit(v, b, c, h, w, grid, padding + (b / cols) * (h + padding),
         padding + (b % cols) * (w + padding));
  return grid;
}

std::vector<uint8_t> to_u8_nhwc(const Tensor& batch) {
  const std::vector<double> v = image_values(batch, true, "to_u8_nhwc");
  const int64_t n = batch.size(0), c = batch.size(1), hw = batch.size(2) * batch.size(3);
  std::vector<uint8_t> out(v.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        out[(b * hw + p) * c + ch] = unit_to_u8(v[(b * c + ch) * hw + p]);
  return out;
}

void save_image(const std::string& path, const Tensor& chw) {
  write_png(path, tensor_to_image(chw));
}

void save_image_grid(const std::string& path, const Tensor& batch, int64_t nrow, int64_t padding,
                     double pad_value) {
  write_png(path, make_grid(batch, nrow, padding, pad_value));
}

std::vector<std::string> save_image_folder(const std::string& dir, const Tensor& batch,
                                           int64_t first_index) {
  const std::vector<double> v = image_values(batch, true, "save_image_folder " + dir);
  S2DM_CHECK(first_index >= 0, "save_image_folder {}: first_index must be >= 0, got {}", dir,
             first_index);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  S2DM_CHECK(!ec, "cannot create directory {}: {}", dir, ec.message());
  const int64_t n = batch.size(0), c = batch.size(1), h = batch.size(2), w = batch.size(3);
  std::vector<std::string> paths;
  for (int64_t b = 0; b < n; ++b) {
    ImageU8 img;
    img.channels = c;
    img.height = h;
    img.width = w;
    img.pixels.resize(static_cast<size_t>(c * h * w));
    blit(v, b, c, h, w, img, 0, 0);
    paths.push_back(
        (std::filesystem::path(dir) / fmt::format("{:06d}.png", first_index + b)).string());
    write_png(paths.back(), img);
  }
  return paths;
}

}  // namespace s2dm
