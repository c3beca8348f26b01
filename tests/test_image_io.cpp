// Image output and .npz archives: the [-1, 1] <-> byte mapping, PNG/JPEG round trips, grids and
// folders, cropping and resizing, .npz layout (re-read byte by byte, CRC checked), ZIP64, corrupt
// inputs, and (when python3 with numpy is installed) numpy reading our files and we reading its.
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image.h"
#include "engine/io/npz.h"

#include "tests/temp_dir.h"

using namespace s2dm;
namespace fs = std::filesystem;
using Catch::Contains;

using test::TempDir;

namespace {


void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

uint64_t le(const std::string& b, size_t pos, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(b[pos + static_cast<size_t>(i)]))
         << (8 * i);
  return v;
}

// The float a byte stands for, so tensors built from it map back to that byte exactly.
float unit(int p) { return u8_to_unit(static_cast<uint8_t>(p)); }

// [C, H, W] tensor with value byte(c, y, x) = (c * 100 + y * 10 + x * 3) % 256.
Tensor pattern_chw(int64_t c, int64_t h, int64_t w, int offset = 0) {
  std::vector<float> v;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        v.push_back(unit(static_cast<int>((offset + ch * 100 + y * 10 + x * 3) % 256)));
  return Tensor::from_vector(v, {c, h, w});
}

int pattern_byte(int64_t c, int64_t y, int64_t x, int offset = 0) {
  return static_cast<int>((offset + c * 100 + y * 10 + x * 3) % 256);
}

bool have_numpy() { return std::system("python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  INFO(cmd << "\n" << out);
  REQUIRE(rc == 0);
  return out;
}

}  // namespace

TEST_CASE("unit_to_u8 maps [-1, 1] to bytes with rounding and clamping", "[image]") {
  CHECK(unit_to_u8(-1.0) == 0);
  CHECK(unit_to_u8(1.0) == 255);
  CHECK(unit_to_u8(0.0) == 128);  // 127.5 rounds half away from zero
  CHECK(unit_to_u8(0.5) == 191);  // 191.25
  CHECK(unit_to_u8(-0.99) == 1);  // 1.275
  CHECK(unit_to_u8(-7.0) == 0);
  CHECK(unit_to_u8(3.0) == 255);
  CHECK(unit_to_u8(std::numeric_limits<double>::quiet_NaN()) == 0);
  CHECK(unit_to_u8(std::numeric_limits<double>::infinity()) == 255);
  // Every byte survives the dataset mapping and back.
  for (int p = 0; p < 256; ++p) CHECK(unit_to_u8(u8_to_unit(static_cast<uint8_t>(p))) == p);
}

TEST_CASE("save_image writes a PNG that decodes to the same bytes, channels in RGB order",
          "[image]") {
  TempDir tmp;
  const Tensor rgb = pattern_chw(3, 5, 7);
  save_image(tmp.file("rgb.png"), rgb);
  const ImageU8 img = read_image(tmp.file("rgb.png"));
  REQUIRE(img.channels == 3);
  REQUIRE(img.height == 5);
  REQUIRE(img.width == 7);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t x = 0; x < 7; ++x) CHECK(img.at(y, x, c) == pattern_byte(c, y, x));

  // Gray tensors become 1-channel PNGs; F64 and strided tensors work the same.
  const Tensor gray = pattern_chw(1, 4, 6).to(DType::F64);
  save_image(tmp.file("gray.png"), gray);
  const ImageU8 g = read_image(tmp.file("gray.png"));
  CHECK(g.channels == 1);
  CHECK(g.at(3, 5, 0) == pattern_byte(0, 3, 5));
  const ImageU8 g3 = read_image(tmp.file("gray.png"), 3);  // replicated to RGB
  CHECK(g3.channels == 3);
  CHECK((g3.at(2, 1, 0) == g.at(2, 1, 0) && g3.at(2, 1, 2) == g.at(2, 1, 0)));
  save_image(tmp.file("t.png"), pattern_chw(1, 6, 4).permute({0, 2, 1}));
  CHECK(read_image(tmp.file("t.png")).at(3, 5, 0) == pattern_byte(0, 5, 3));

  // The write is atomic: nothing but the final files is left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.dir)) {
    CHECK(e.path().extension() == ".png");
    ++entries;
  }
  CHECK(entries == 3);

  CHECK_THROWS_WITH(save_image(tmp.file("x.png"), Tensor::zeros({2, 4, 4})),
                    Contains("1 or 3 channels"));
  CHECK_THROWS_WITH(save_image(tmp.file("x.png"), Tensor::zeros({1, 3, 4, 4})),
                    Contains("[C, H, W]"));
  CHECK_THROWS_WITH(save_image(tmp.file("no_such_dir/x.png"), rgb), Contains("no_such_dir/x.png"));
}

TEST_CASE("make_grid places images row by row with padding", "[image]") {
  // Five 1x2x3 images, image b filled with byte 10 * (b + 1); two per row, padding 1, pad white.
  std::vector<float> v;
  for (int b = 0; b < 5; ++b)
    for (int i = 0; i < 6; ++i) v.push_back(unit(10 * (b + 1)));
  const Tensor batch = Tensor::from_vector(v, {5, 1, 2, 3});
  const ImageU8 grid = make_grid(batch, 2, 1, 1.0);
  REQUIRE(grid.channels == 1);
  REQUIRE(grid.height == 3 * (2 + 1) + 1);
  REQUIRE(grid.width == 2 * (3 + 1) + 1);
  for (int64_t y = 0; y < grid.height; ++y) {
    for (int64_t x = 0; x < grid.width; ++x) {
      const bool in_y = y % 3 != 0, in_x = x % 4 != 0;
      const int64_t b = (y / 3) * 2 + x / 4;
      const int want = in_y && in_x && b < 5 ? 10 * static_cast<int>(b + 1) : 255;
      CHECK(grid.at(y, x, 0) == want);
    }
  }
  // Fewer images than nrow: one row only as wide as needed; default padding 2, black.
  const ImageU8 row = make_grid(batch.slice(0, 0, 2), 8);
  CHECK(row.height == 2 + 2 + 2);
  CHECK(row.width == 2 * (3 + 2) + 2);
  CHECK(row.at(0, 0, 0) == 0);

  TempDir tmp;
  save_image_grid(tmp.file("grid.png"), batch, 2, 1, 1.0);
  const ImageU8 back = read_image(tmp.file("grid.png"));
  CHECK(back.pixels == grid.pixels);
  CHECK_THROWS_WITH(make_grid(batch, 0), Contains("nrow"));
  CHECK_THROWS_WITH(make_grid(Tensor::zeros({1, 2, 3}), 2), Contains("[B, C, H, W]"));
}

TEST_CASE("side_by_side places images left to right with a gap", "[image]") {
  // a: 2x2 gray of value y*2+x+1; b: 3x1 of value 100+y; gap 2 of fill 7.
  ImageU8 a{2, 2, 1, {1, 2, 3, 4}}, b{3, 1, 1, {100, 101, 102}};
  const ImageU8 s = side_by_side({a, b}, 2, 7);
  REQUIRE(s.channels == 1);
  REQUIRE(s.height == 3);
  REQUIRE(s.width == 2 + 2 + 1);
  const std::vector<uint8_t> want = {1, 2, 7, 7, 100,   //
                                     3, 4, 7, 7, 101,   //
                                     7, 7, 7, 7, 102};  // a is padded below with fill
  CHECK(s.pixels == want);
  CHECK(side_by_side({a}, 5).pixels == a.pixels);
  ImageU8 rgb{1, 1, 3, {1, 2, 3}};
  CHECK_THROWS_WITH(side_by_side({a, rgb}, 1), Contains("channels"));
  CHECK_THROWS_WITH(side_by_side({}, 1), Contains("need images"));
}

TEST_CASE("save_image_folder writes one numbered PNG per image", "[image]") {
  TempDir tmp;
  const Tensor a = pattern_chw(3, 4, 4, 0).reshape({1, 3, 4, 4});
  const Tensor b = pattern_chw(3, 4, 4, 50).reshape({1, 3, 4, 4});
  std::vector<float> v;
  for (const Tensor& t : {a, b})
    for (double x : t.to_vector()) v.push_back(static_cast<float>(x));
  const Tensor batch = Tensor::from_vector(v, {2, 3, 4, 4});
  const std::string dir = tmp.file("samples/sub");
  const std::vector<std::string> paths = save_image_folder(dir, batch, 41);
  REQUIRE(paths.size() == 2);
  CHECK(paths[0] == dir + "/000041.png");
  CHECK(paths[1] == dir + "/000042.png");
  const ImageU8 second = read_image(paths[1]);
  CHECK(second.at(1, 2, 2) == pattern_byte(2, 1, 2, 50));
}

TEST_CASE("to_u8_nhwc interleaves channels image by image", "[image]") {
  // Two 3x1x2 images; image 0: R = (-1, 1), G = (0, 0.5), B = (1, -1); image 1 all 1.
  const Tensor batch =
      Tensor::from_vector(std::vector<float>{-1, 1, 0, 0.5, 1, -1, 1, 1, 1, 1, 1, 1}, {2, 3, 1, 2});
  CHECK(to_u8_nhwc(batch) ==
        std::vector<uint8_t>{0, 128, 255, 255, 191, 0, 255, 255, 255, 255, 255, 255});
  CHECK_THROWS_WITH(to_u8_nhwc(Tensor::zeros({2, 2, 1, 2})), Contains("1 or 3 channels"));
}

TEST_CASE("read_image, write_jpeg, crop_square and resize", "[image]") {
  TempDir tmp;
  ImageU8 img;
  img.height = 6;
  img.width = 8;
  img.channels = 3;
  img.pixels.resize(6 * 8 * 3);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x)
      for (int64_t c = 0; c < 3; ++c) img.at(y, x, c) = static_cast<uint8_t>(y * 30 + x * 3 + c);

  const ImageU8 centre = crop_square(img, 4);
  REQUIRE((centre.height == 4 && centre.width == 4 && centre.channels == 3));
  CHECK(centre.at(0, 0, 0) == img.at(1, 2, 0));
  CHECK(centre.at(3, 3, 2) == img.at(4, 5, 2));
  const ImageU8 corner = crop_square(img, 3, 0, 5);
  CHECK(corner.at(2, 2, 1) == img.at(2, 7, 1));
  CHECK_THROWS_WITH(crop_square(img, 7), Contains("does not fit"));
  CHECK_THROWS_WITH(crop_square(img, 3, 4, 0), Contains("does not fit"));

  ImageU8 flat = img;
  std::fill(flat.pixels.begin(), flat.pixels.end(), uint8_t{77});
  const ImageU8 small = resize(flat, 3, 4);
  REQUIRE((small.height == 3 && small.width == 4 && small.channels == 3));
  for (uint8_t p : small.pixels) CHECK(p == 77);
  // A horizontal ramp stays a non-decreasing ramp when halved.
  const ImageU8 half = resize(img, 3, 4);
  for (int64_t x = 1; x < 4; ++x) CHECK(half.at(1, x, 0) >= half.at(1, x - 1, 0));

  write_jpeg(tmp.file("flat.jpg"), flat, 95);
  const ImageU8 j = read_image(tmp.file("flat.jpg"));
  REQUIRE((j.height == 6 && j.width == 8 && j.channels == 3));
  for (uint8_t p : j.pixels) CHECK(std::abs(static_cast<int>(p) - 77) <= 2);

  CHECK_THROWS_WITH(read_image(tmp.file("missing.png")), Contains(tmp.file("missing.png")));
  write_raw(tmp.file("text.png"), "this is not an image");
  CHECK_THROWS_WITH(read_image(tmp.file("text.png")), Contains(tmp.file("text.png")));
  CHECK_THROWS_WITH(write_png(tmp.file("bad.png"), ImageU8{}), Contains(tmp.file("bad.png")));
}

TEST_CASE("save_npz_u8 writes a stored ZIP with one .npy member and correct CRC", "[image][npz]") {
  TempDir tmp;
  const Shape shape{2, 3, 4, 3};
  std::vector<uint8_t> data(72);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 1);
  const std::string path = tmp.file("samples.npz");
  save_npz_u8(path, data, shape);

  // Parse the archive by hand: local header, member, central directory, end record.
  const std::string b = read_file(path);
  REQUIRE(b.size() > 30);
  CHECK(le(b, 0, 4) == 0x04034b50);
  CHECK(le(b, 8, 2) == 0);  // stored
  const uint64_t crc = le(b, 14, 4), csize = le(b, 18, 4), usize = le(b, 22, 4);
  const uint64_t nlen = le(b, 26, 2), xlen = le(b, 28, 2);
  CHECK(b.substr(30, nlen) == "arr_0.npy");
  CHECK(csize == usize);
  const std::string member = b.substr(30 + nlen + xlen, usize);
  CHECK(crc32(0L, reinterpret_cast<const Bytef*>(member.data()),
              static_cast<uInt>(member.size())) == crc);
  CHECK(member.substr(0, 6) == "\x93NUMPY");
  const uint64_t hlen = le(member, 8, 2);
  CHECK((10 + hlen) % 64 == 0);
  const std::string header = member.substr(10, hlen);
  CHECK(header.find("'descr': '|u1'") != std::string::npos);
  CHECK(header.find("'fortran_order': False") != std::string::npos);
  CHECK(header.find("'shape': (2, 3, 4, 3)") != std::string::npos);
  CHECK(member.substr(10 + hlen) == std::string(data.begin(), data.end()));
  const size_t end = b.size() - 22;
  CHECK(le(b, end, 4) == 0x06054b50);
  CHECK(le(b, end + 10, 2) == 1);
  const uint64_t cd_offset = le(b, end + 16, 4);
  CHECK(cd_offset == 30 + nlen + xlen + usize);
  CHECK(le(b, cd_offset, 4) == 0x02014b50);
  CHECK(le(b, cd_offset + 16, 4) == crc);

  const std::vector<NpzArray> back = load_npz(path);
  REQUIRE(back.size() == 1);
  CHECK(back[0].name == "arr_0");
  CHECK(back[0].descr == "|u1");
  CHECK(back[0].shape == shape);
  CHECK(back[0].data == std::string(data.begin(), data.end()));
  const Tensor t = back[0].to_tensor();
  CHECK(t.shape() == shape);
  CHECK(t.to_vector()[5] == data[5]);

  // Equal arrays give byte-identical files (fixed timestamps).
  save_npz_u8(tmp.file("again.npz"), data, shape);
  CHECK(read_file(tmp.file("again.npz")) == b);
}

TEST_CASE("save_npz with several float arrays, ZIP64 layout, lookup by name", "[image][npz]") {
  TempDir tmp;
  const Tensor mu = Tensor::from_vector(std::vector<double>{0.5, -1.25, 3}, {3});
  const Tensor sigma = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2}).permute({1, 0});
  const Tensor scalar = Tensor::full({}, 7.0);
  const std::string path = tmp.file("stats.npz");
  save_npz(path, {{"mu", mu}, {"sigma", sigma}, {"n", scalar}});
  const std::vector<NpzArray> back = load_npz(path);
  REQUIRE(back.size() == 3);
  CHECK(back[0].name == "mu");
  CHECK(back[0].descr == "<f8");
  CHECK(back[0].to_tensor().to_vector() == mu.to_vector());
  const NpzArray& s = find_npz_array(back, "sigma", path);
  CHECK(s.descr == "<f4");
  CHECK(s.shape == Shape{2, 2});
  CHECK(s.to_tensor().to_vector() == std::vector<double>{1, 3, 2, 4});
  CHECK(find_npz_array(back, "n", path).shape.empty());
  CHECK(find_npz_array(back, "n", path).to_tensor().item() == 7.0);
  CHECK_THROWS_WITH(find_npz_array(back, "nope", path), Contains(path) && Contains("mu, sigma, n"));

  // Forced ZIP64 records read back the same.
  const std::string bytes = "\x01\x02\x03\x04\x05\x06";
  const std::vector<NpzEntry> entries = {{"a", "|u1", {2, 3}, bytes}, {"b", "|u1", {6}, bytes}};
  detail::save_npz(tmp.file("z64.npz"), entries, true);
  const std::string z = read_file(tmp.file("z64.npz"));
  CHECK(le(z, 4, 2) == 45);                           // version needed: ZIP64
  CHECK(le(z, 18, 4) == 0xffffffffu);                 // sizes moved to the extra field
  CHECK(le(z, z.size() - 22 - 20, 4) == 0x07064b50);  // ZIP64 locator
  const std::vector<NpzArray> zb = load_npz(tmp.file("z64.npz"));
  REQUIRE(zb.size() == 2);
  CHECK(zb[1].name == "b");
  CHECK(zb[1].shape == Shape{6});
  CHECK(zb[1].data == bytes);

  CHECK_THROWS_WITH(save_npz(tmp.file("x.npz"), {{"a", "|u1", {4}, bytes}}), Contains("needs 4"));
  CHECK_THROWS_WITH(
      save_npz(tmp.file("x.npz"), {{"a", "|u1", {6}, bytes}, {"a", "|u1", {6}, bytes}}),
      Contains("two arrays are named 'a'"));
  CHECK_FALSE(fs::exists(tmp.file("x.npz")));
}

TEST_CASE("load_npz rejects missing, truncated, corrupt and foreign files naming them",
          "[image][npz]") {
  TempDir tmp;
  std::vector<uint8_t> data(200);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  const std::string good = tmp.file("good.npz");
  save_npz_u8(good, data, {10, 20});
  const std::string b = read_file(good);

  CHECK_THROWS_WITH(load_npz(tmp.file("missing.npz")), Contains(tmp.file("missing.npz")));
  const std::string trunc = tmp.file("trunc.npz");
  write_raw(trunc, b.substr(0, b.size() - 30));
  CHECK_THROWS_WITH(load_npz(trunc), Contains(trunc) && Contains("truncated"));
  const std::string half = tmp.file("half.npz");
  write_raw(half, b.substr(0, 150));
  CHECK_THROWS_WITH(load_npz(half), Contains(half));
  std::string flipped = b;
  flipped[200] = static_cast<char>(flipped[200] ^ 0x40);  // inside the array data
  const std::string corrupt = tmp.file("corrupt.npz");
  write_raw(corrupt, flipped);
  CHECK_THROWS_WITH(load_npz(corrupt), Contains(corrupt) && Contains("CRC"));
  const std::string text = tmp.file("text.npz");
  write_raw(text, std::string(100, 'x'));
  CHECK_THROWS_WITH(load_npz(text), Contains(text) && Contains("not an .npz"));
}

TEST_CASE("numpy reads our .npz files and we read np.savez / np.savez_compressed",
          "[image][npz][numpy]") {
  if (!have_numpy()) {
    WARN("python3 with numpy is not installed; skipping the numpy interop check");
    return;
  }
  TempDir tmp;
  std::vector<uint8_t> data(2 * 4 * 5 * 3);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 37) % 256);
  save_npz_u8(tmp.file("ours.npz"), data, {2, 4, 5, 3});
  detail::save_npz(tmp.file("ours64.npz"),
                   {{"x",
                     "|u1",
                     {2, 4, 5, 3},
                     std::string_view(reinterpret_cast<const char*>(data.data()), data.size())}},
                   true);
  uint64_t sum = 0;
  for (uint8_t v : data) sum += v;
  for (const auto& [file, key] : {std::pair{"ours.npz", "arr_0"}, std::pair{"ours64.npz", "x"}}) {
    const std::string out =
        run_capture(fmt::format("python3 -c \"import numpy as np; a = np.load('{}')['{}']; "
                                "print(a.dtype, a.shape, int(a.sum()), int(a[1, 2, 3, 1]))\"",
                                tmp.file(file), key));
    CHECK(out ==
          fmt::format("uint8 (2, 4, 5, 3) {} {}\n", sum, data[((1 * 4 + 2) * 5 + 3) * 3 + 1]));
  }

  run_capture(fmt::format(
      "python3 -c \"import numpy as np; a = np.arange(3000, dtype=np.float32).reshape(30, 100); "
      "b = (np.arange(64) % 7).astype(np.uint8); "
      "np.savez_compressed('{}', a=a, b=b); np.savez('{}', a, b)\"",
      tmp.file("theirs_z.npz"), tmp.file("theirs.npz")));
  for (const std::string file : {"theirs_z.npz", "theirs.npz"}) {
    const std::vector<NpzArray> arrays = load_npz(tmp.file(file));
    REQUIRE(arrays.size() == 2);
    const bool named = file == "theirs_z.npz";
    CHECK(arrays[0].name == (named ? "a" : "arr_0"));
    const std::vector<double> a = arrays[0].to_tensor().to_vector();
    REQUIRE(a.size() == 3000);
    CHECK(a[2999] == 2999.0);
    CHECK(arrays[0].shape == Shape{30, 100});
    CHECK(arrays[1].descr == "|u1");
    CHECK(static_cast<int>(arrays[1].data[20]) == 20 % 7);
  }
}
