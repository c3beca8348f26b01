// 8-bit images: decoding PNG/JPEG files, cropping and resizing, and writing PNG (and JPEG) files,
// single images, grids and folders, from tensors in [-1, 1].
//
// Invariants: an ImageU8 is interleaved (H, W, C) uint8 with pixels.size() == H*W*C. The float to
// byte mapping is round((clamp(x, -1, 1) + 1) * 127.5), NaN becoming 0, so a value written and
// read back through Dataset::get (p / 255 * 2 - 1) returns the same byte. Every file is written
// atomically (encoded in memory, then write_file_atomic) and every error names the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

struct ImageU8 {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;         // 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;  // row-major H x W x C

  uint8_t& at(int64_t y, int64_t x, int64_t c) { return pixels[index(y, x, c)]; }
  uint8_t at(int64_t y, int64_t x, int64_t c) const { return pixels[index(y, x, c)]; }

 private:
  size_t index(int64_t y, int64_t x, int64_t c) const {
    return static_cast<size_t>((y * width + x) * channels + c);
  }
};

// Decodes a PNG file with libpng (16-bit samples are reduced to 8 bits) or a JPEG file with
// libjpeg-turbo. Other formats, PNG chunks longer than the file, images of more than 2^26 pixels
// and files too short for the pixels their header announces are refused before decoding; corrupt
// or missing data (a PNG CRC error, a JPEG decoder warning), and JPEGs of more than 500
// progressive scans, are refused by the decoders.
// channels = 0 keeps the stored channel count; 1 converts to gray (stb's luma weights), 3 to RGB
// (gray is replicated, alpha dropped), 2 and 4 add or keep alpha.
ImageU8 read_image(const std::string& path, int channels = 0);

// Writes PNG / JPEG (quality 1..100) files atomically.
void write_png(const std::string& path, const ImageU8& image);
void write_jpeg(const std::string& path, const ImageU8& image, int quality = 95);

// The size x size square whose top-left corner is (top, left); top/left = -1 centres it on that
// axis (rounding the margin down, like torchvision's CenterCrop). The square must lie inside the
// image.
ImageU8 crop_square(const ImageU8& image, int64_t size, int64_t top = -1, int64_t left = -1);
// Resamples to height x width with a triangle (bilinear) filter whose support widens when
// shrinking, so downscaling averages like PIL's antialiased bilinear resize; edges are clamped.
ImageU8 resize(const ImageU8& image, int64_t height, int64_t width);

// [-1, 1] to a byte: round((x + 1) * 127.5) after clamping; NaN maps to 0.
uint8_t unit_to_u8(double x);
// A [C, H, W] tensor (C = 1 or 3, any dtype/device) as an image.
ImageU8 tensor_to_image(const Tensor& chw);
// A [B, C, H, W] batch as a grid: nrow images per row, `padding` pixels between them and around
// the border, filled with pad_value (a [-1, 1] value; -1 is black, like torchvision's make_grid).
ImageU8 make_grid(const Tensor& batch, int64_t nrow = 8, int64_t padding = 2,
                  double pad_value = -1.0);
// Images placed left to right, `gap` pixels of `fill` between them; all need the same channel
// count, and shorter ones are padded below with `fill`. For comparing grids (e.g. one sampler at
// two step counts from the same noise) in one file.
ImageU8 side_by_side(const std::vector<ImageU8>& images, int64_t gap, uint8_t fill = 255);
// A [B, C, H, W] batch as uint8 N x H x W x C, the layout FID tools read from .npz files.
std::vector<uint8_t> to_u8_nhwc(const Tensor& batch);

// PNG of one [C, H, W] image.
void save_image(const std::string& path, const Tensor& chw);
// PNG grid of a [B, C, H, W] batch (see make_grid).
void save_image_grid(const std::string& path, const Tensor& batch, int64_t nrow = 8,
                     int64_t padding = 2, double pad_value = -1.0);
// One PNG per image of a [B, C, H, W] batch: <dir>/<first_index + i, 6 digits>.png, creating
// dir when needed; returns the paths written.
std::vector<std::string> save_image_folder(const std::string& dir, const Tensor& batch,
                                           int64_t first_index = 0);

}  // namespace s2dm
