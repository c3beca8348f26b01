// Image files, resampling and encoding: decoding is image_decode.cpp's (libpng, libjpeg-turbo);
// stb_image_write encodes into memory and write_file_atomic publishes the bytes;
// stb_image_resize resamples.
#include "engine/io/image.h"

#include <stb_image_resize.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_decode.h"

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


}  // namespace

ImageU8 read_image(const std::string& path, int channels) {
  S2DM_CHECK(channels >= 0 && channels <= 4, "read_image {}: channels must be 0..4, got {}", path,
             channels);
  const std::string bytes = read_file(path);
  const bool png = bytes.starts_with("\x89PNG\r\n\x1a\n");
  const bool jpeg = bytes.starts_with("\xff\xd8");
  S2DM_CHECK(png || jpeg,
             "cannot decode image {}: not a PNG or JPEG file (no PNG signature or JPEG SOI "
             "marker; remove or replace the file)",
             path);
  return png ? decode_png(bytes, path, channels) : decode_jpeg(bytes, path, channels);
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

ImageU8 side_by_side(const std::vector<ImageU8>& images, int64_t gap, uint8_t fill) {
  S2DM_CHECK(!images.empty() && gap >= 0, "side_by_side: need images and gap >= 0, got {} and {}",
             images.size(), gap);
  ImageU8 out;
  out.channels = images[0].channels;
  for (const ImageU8& im : images) {
    S2DM_CHECK(im.channels == out.channels, "side_by_side: images with {} and {} channels",
               out.channels, im.channels);
    out.height = std::max(out.height, im.height);
    out.width += im.width;
  }
  out.width += gap * static_cast<int64_t>(images.size() - 1);
  out.pixels.assign(static_cast<size_t>(out.height * out.width * out.channels), fill);
  int64_t left = 0;
  for (const ImageU8& im : images) {
    const size_t row = static_cast<size_t>(im.width * im.channels);
    for (int64_t y = 0; y < im.height; ++y)
      std::copy_n(im.pixels.begin() + static_cast<std::ptrdiff_t>(y * im.width * im.channels), row,
                  out.pixels.begin() + static_cast<std::ptrdiff_t>((y * out.width + left) * out.channels));
    left += im.width + gap;
  }
  return out;
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
