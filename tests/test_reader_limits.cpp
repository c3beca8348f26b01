// Readers refuse sizes their input cannot back: headers whose size arithmetic overflows, shapes
// whose strides would overflow, compressed sizes beyond what deflate can produce, JSON nested too
// deeply to print, and JPEG Huffman tables that would overrun the decoder. Each case is an input
// the fuzz targets (fuzz/) found or were aimed at; every one must end in an s2dm::Error naming the
// file, never a crash, undefined behaviour or a multi-gigabyte allocation.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "engine/data/mnist.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/npy.h"
#include "engine/io/npz.h"
#include "engine/io/safetensors.h"

#include "tests/temp_dir.h"

using namespace s2dm;
using Catch::Contains;
using test::TempDir;

namespace {

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// A 16 x 24 RGB image of varied bytes, to encode as a real PNG or JPEG.
ImageU8 pattern_image() {
  ImageU8 img;
  img.height = 16;
  img.width = 24;
  img.channels = 3;
  img.pixels.resize(16 * 24 * 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 7);
  return img;
}

std::string read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xffu);
  return out;
}

std::string idx_header(uint32_t count, uint32_t rows, uint32_t cols) {
  return be32(2051) + be32(count) + be32(rows) + be32(cols);
}

// A version 1.0 .npy header with the given shape text and no data.
std::string npy_with_shape(const std::string& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + le(dict.size(), 2) + dict;
}

}  // namespace

TEST_CASE("IDX: an image count x size product that wraps 64 bits is refused", "[reader_limits]") {
  TempDir tmp("limits");
  // 2^31 images of 2^31 x 4 pixels: the product is 2^64, which used to wrap to 0 and so match
  // an empty payload, after which load_mnist multiplied the sizes again in int64.
  const std::string path = tmp.file("train-images-idx3-ubyte");
  write_raw(path, idx_header(0x80000000u, 0x80000000u, 4));
  CHECK_THROWS_WITH(read_idx_images(path), Contains(path) && Contains("corrupt IDX header"));
  MnistOptions opt;
  opt.dir = tmp.dir.string();
  CHECK_THROWS_WITH(load_mnist(opt), Contains(path));
}

TEST_CASE("IDX: zero images of an absurd size are refused by load_mnist", "[reader_limits]") {
  TempDir tmp("limits");
  // No payload is needed for zero images, so nothing in the file bounds the dimensions; padded,
  // (2^32 + 3)^2 pixels per image overflow int64.
  const std::string path = tmp.file("train-images-idx3-ubyte");
  write_raw(path, idx_header(0, 0xffffffffu, 0xffffffffu));
  MnistOptions opt;
  opt.dir = tmp.dir.string();
  CHECK_THROWS_WITH(load_mnist(opt), Contains(path) && Contains("too large"));
}

TEST_CASE("IDX: a gzip stream longer than its header says is refused without inflating it all",
          "[reader_limits]") {
  TempDir tmp("limits");
  // One 1x1 image announced, 16 MiB of zeros following (a 16 KiB file). The reader stops one
  // byte past the announced payload instead of inflating everything first, which shows here:
  // the gzip trailer's CRC is broken, and inflating to the end would report that instead.
  const std::string path = tmp.file("long.gz");
  write_gz(path, idx_header(1, 1, 1) + std::string(size_t{16} << 20, '\0'));
  std::string gz = read_raw(path);
  gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 0x55);
  write_raw(path, gz);
  CHECK_THROWS_WITH(read_idx_images(path), Contains(path) && Contains("unexpected bytes"));
  // The announced payload alone still reads.
  const std::string exact = tmp.file("exact.gz");
  write_gz(exact, idx_header(2, 1, 1) + std::string("\x07\x09", 2));
  const IdxImages img = read_idx_images(exact);
  CHECK(img.count == 2);
  CHECK(img.pixels == std::vector<uint8_t>{7, 9});
}

TEST_CASE(".npy and .npz: a zero dimension does not excuse overflowing strides",
          "[reader_limits]") {
  TempDir tmp("limits");
  // The data is empty, but strides multiply the other dimensions: 2^62 * 2^62 overflows int64.
  const std::string npy = tmp.file("zero_huge.npy");
  write_raw(npy, npy_with_shape("(0, 4611686018427387904, 4611686018427387904)"));
  CHECK_THROWS_WITH(load_npy(npy), Contains(npy) && Contains("too large"));
  // Large but representable shapes with a zero dimension still load, as empty tensors.
  const std::string ok = tmp.file("zero_wide.npy");
  write_raw(ok, npy_with_shape("(0, 1048576, 1048576)"));
  CHECK(load_npy(ok).numel() == 0);

  // The same header as an archive member (the .npz reader shares the header parser): an empty
  // '<f4' member of shape (0, 1, 1) has a header of the same padded length, so the crafted one is
  // swapped in place and the CRC-32 fixed in both headers.
  const std::string npz = tmp.file("zero_huge.npz");
  save_npz(npz, {NpzEntry{"arr_0", "<f4", {0, 1, 1}, std::string_view()}});
  std::string bytes = read_raw(npz);
  const std::string stored = npy_header("<f4", {0, 1, 1});
  const size_t pos = bytes.find(stored);
  REQUIRE(pos != std::string::npos);
  const std::string crafted = npy_with_shape("(0, 4611686018427387904, 4611686018427387904)");
  REQUIRE(crafted.size() == stored.size());
  bytes.replace(pos, stored.size(), crafted);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(crafted.data()), static_cast<uInt>(crafted.size())));
  // CRC-32 sits at byte 14 of the local header and byte 16 of the central directory entry.
  bytes.replace(14, 4, le(crc, 4));
  const size_t central = bytes.find(std::string("PK\x01\x02", 4));
  REQUIRE(central != std::string::npos);
  bytes.replace(central + 16, 4, le(crc, 4));
  write_raw(npz, bytes);
  CHECK_THROWS_WITH(load_npz(npz), Contains(npz) && Contains("too large"));
}

TEST_CASE("safetensors: overflowing strides and deeply nested headers are refused",
          "[reader_limits]") {
  TempDir tmp("limits");
  const std::string zero = tmp.file("zero_huge.safetensors");
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],)"
      R"("data_offsets":[0,0]}})";
  write_raw(zero, le(header.size(), 8) + header);
  CHECK_THROWS_WITH(load_safetensors(zero), Contains(zero) && Contains("too large"));

  // Quoting a 200000-deep value in the error message used to recurse once per level.
  const std::string deep = tmp.file("deep.safetensors");
  const size_t depth = 200000;
  const std::string nested =
      R"({"a":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  write_raw(deep, le(nested.size(), 8) + nested);
  CHECK_THROWS_WITH(load_safetensors(deep), Contains(deep) && Contains("nested more than"));
  const std::string deep_meta = tmp.file("deep_meta.safetensors");
  const std::string meta =
      R"({"__metadata__":{"k":)" + std::string(depth, '[') + std::string(depth, ']') + "}}";
  write_raw(deep_meta, le(meta.size(), 8) + meta);
  CHECK_THROWS_WITH(load_safetensors(deep_meta), Contains(deep_meta) && Contains("nested"));
}

TEST_CASE(".npz: a deflated member claiming more than deflate can produce is refused",
          "[reader_limits]") {
  TempDir tmp("limits");
  const std::string path = tmp.file("bomb.npz");
  save_npz_u8(path, {1, 2, 3, 4}, {4});
  std::string bytes = read_raw(path);
  // Mark the member deflated (method at byte 8 of the local header, 10 of the central entry)
  // and claim 3 GiB uncompressed in the central directory, which the reader sizes its buffer by.
  bytes.replace(8, 2, le(8, 2));
  const size_t central = bytes.find(std::string("PK\x01\x02", 4));
  REQUIRE(central != std::string::npos);
  bytes.replace(central + 10, 2, le(8, 2));
  bytes.replace(central + 24, 4, le(uint64_t{3} << 30, 4));
  write_raw(path, bytes);
  CHECK_THROWS_WITH(load_npz(path), Contains(path) && Contains("claims 3221225472 bytes"));
}

TEST_CASE("JPEG: a Huffman table with more than 256 codes is refused before decoding",
          "[reader_limits]") {
  TempDir tmp("limits");
  // SOI, then DHT (length 19: one table) whose 16 counts total 4080 codes. stb_image (which once
  // decoded JPEGs here) would write one byte per code into a 257-byte array; libjpeg-turbo
  // refuses the table.
  std::string jpeg = "\xff\xd8\xff\xc4";
  jpeg += std::string("\x00\x13\x00", 3) + std::string(16, '\xff');
  const std::string path = tmp.file("dht.jpg");
  write_raw(path, jpeg);
  CHECK_THROWS_WITH(read_image(path), Contains(path) && Contains("Huffman table"));
  // Fill bytes before SOI, which stb skipped, are not a JPEG for libjpeg-turbo, nor for s2dm.
  const std::string later = tmp.file("dht_after_fill.jpg");
  write_raw(later, "\xff" + jpeg);
  CHECK_THROWS_WITH(read_image(later), Contains(later) && Contains("not a PNG or JPEG"));

  // Real JPEGs, whose tables are well-formed, still decode.
  const ImageU8 img = pattern_image();
  const std::string good = tmp.file("good.jpg");
  write_jpeg(good, img, 90);
  const ImageU8 back = read_image(good);
  CHECK(back.height == 16);
  CHECK(back.width == 24);
  CHECK(back.channels == 3);
}

TEST_CASE("Images: only PNG and JPEG are decoded, and not beyond 2^26 pixels", "[reader_limits]") {
  TempDir tmp("limits");
  // An 18-byte TGA header (TGA has no signature) announcing a 65535 x 65535 RLE image: stb's
  // TGA decoder would expand it, reading zeros past the end, for minutes.
  std::string tga(18, '\0');
  tga[2] = 10;  // RLE true-colour
  tga[12] = tga[13] = tga[14] = tga[15] = '\xff';
  tga[16] = 24;
  const std::string path = tmp.file("image.png");
  write_raw(path, tga);
  CHECK_THROWS_WITH(read_image(path), Contains(path) && Contains("not a PNG or JPEG"));

  // A JPEG frame header announcing 16384 x 16384 gray pixels, a scan header and no data.
  const std::string big = tmp.file("big.jpg");
  const std::string sof("\xff\xd8\xff\xc0\x00\x0b\x08\x40\x00\x40\x00\x01\x01\x11\x00", 15);
  const std::string sos("\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", 10);
  write_raw(big, sof + sos + std::string("\xff\xd9", 2));
  CHECK_THROWS_WITH(read_image(big), Contains(big) && Contains("16384x16384"));
  // Without the scan header the file is refused as corrupt before any pixel is decoded.
  write_raw(big, sof + std::string("\xff\xd9", 2));
  CHECK_THROWS_WITH(read_image(big), Contains(big) && Contains("corrupt JPEG"));
}

TEST_CASE("Images: a header announcing more pixels than the file can encode is refused",
          "[reader_limits]") {
  TempDir tmp("limits");
  const ImageU8 img = pattern_image();

  // A real JPEG whose frame header then claims 65039 rows (as a fuzzer-found 783-byte file did,
  // which stb spent seconds expanding): 30 x 8130 blocks need at least 30,488 bytes.
  const std::string jpg = tmp.file("tall.jpg");
  write_jpeg(jpg, img, 90);
  std::string bytes = read_raw(jpg);
  const size_t sof = bytes.find("\xff\xc0");
  REQUIRE(sof != std::string::npos);
  bytes[sof + 5] = '\xfe';  // height, high byte first
  bytes[sof + 6] = '\x0f';
  write_raw(jpg, bytes);
  CHECK_THROWS_WITH(read_image(jpg), Contains(jpg) && Contains("24x65039") &&
                                         Contains("truncated or corrupt"));

  // A real PNG whose header then claims 8000 x 8000 pixels: 8,000 rows of at least 3,001 bytes,
  // deflated at most 1032:1, need more than its few hundred bytes.
  const std::string png = tmp.file("wide.png");
  write_png(png, img);
  bytes = read_raw(png);
  const size_t ihdr = bytes.find("IHDR");
  REQUIRE(ihdr != std::string::npos);
  bytes.replace(ihdr + 4, 8, be32(8000) + be32(8000));
  // The chunk's CRC (over type and data) made valid again, so only the size is wrong.
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data() + ihdr), 4 + 13));
  bytes.replace(ihdr + 4 + 13, 4, be32(crc));
  write_raw(png, bytes);
  CHECK_THROWS_WITH(read_image(png), Contains(png) && Contains("8000x8000") &&
                                         Contains("truncated or corrupt"));
}

TEST_CASE("PNG: a chunk longer than the file is refused before stb allocates it",
          "[reader_limits]") {
  TempDir tmp("limits");
  // A valid 1x1 gray PNG, then its IDAT length set to 2 GiB - 1: stb would grow its buffer to
  // 2 GiB before finding the data missing.
  ImageU8 img;
  img.height = img.width = img.channels = 1;
  img.pixels = {42};
  const std::string path = tmp.file("idat.png");
  write_png(path, img);
  CHECK(read_image(path).pixels == std::vector<uint8_t>{42});
  std::string bytes = read_raw(path);
  const size_t idat = bytes.find("IDAT");
  REQUIRE(idat != std::string::npos);
  bytes.replace(idat - 4, 4, be32(0x7fffffffu));
  write_raw(path, bytes);
  CHECK_THROWS_WITH(read_image(path), Contains(path) && Contains("2147483647 bytes"));
}

TEST_CASE("Images: the inputs fuzzing found are refused with the file named", "[reader_limits]") {
  // fuzz/regressions/: a corrupt JPEG on which stb_image shifted a 32-bit value by 33 bits
  // (undefined behaviour under UBSan), a 1.3 kB JPEG of nine scans over 63496 x 8 pixels that
  // stb spent over a second on under the sanitizers, and a corrupt PNG on which stb passed a null
  // pointer to memcpy. libjpeg-turbo and libpng stop at the corrupt data.
  const std::filesystem::path dir = std::filesystem::path(S2DM_SOURCE_DIR) / "fuzz" / "regressions";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    INFO(path);
    CHECK_THROWS_WITH(read_image(path), Contains(path) && Contains("corrupt"));
    ++seen;
  }
  CHECK(seen >= 3);
}
