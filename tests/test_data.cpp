// Datasets and the data loader: IDX (raw and gzip), CIFAR-10 binary batches and image folders
// written here from known bytes and read back exactly; bad inputs fail naming the file; shuffling,
// flips, drop-last and resuming are reproducible; the installed Fashion-MNIST loads when present.
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "engine/data/cifar10.h"
#include "engine/data/data_loader.h"
#include "engine/data/dataset.h"
#include "engine/data/image_folder.h"
#include "engine/data/mnist.h"
#include "engine/error.h"
#include "engine/io/image.h"

#include "tests/temp_dir.h"

using namespace s2dm;
namespace fs = std::filesystem;
using Catch::Contains;

using test::TempDir;

namespace {


void write_raw(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

std::string read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

int idx_pixel(int64_t n, int64_t y, int64_t x) {
  return static_cast<int>((n * 31 + y * 7 + x * 3 + 1) % 256);
}

std::string idx_images(int64_t count, int64_t rows, int64_t cols, uint32_t magic = 2051) {
  std::string b = be32(magic) + be32(static_cast<uint32_t>(count)) +
                  be32(static_cast<uint32_t>(rows)) + be32(static_cast<uint32_t>(cols));
  for (int64_t n = 0; n < count; ++n)
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < cols; ++x) b += static_cast<char>(idx_pixel(n, y, x));
  return b;
}

std::string idx_labels(const std::vector<int>& labels) {
  std::string b = be32(2049) + be32(static_cast<uint32_t>(labels.size()));
  for (int l : labels) b += static_cast<char>(l);
  return b;
}

std::vector<float> image_of(const Dataset& ds, int64_t index) {
  std::vector<float> v(static_cast<size_t>(ds.image_numel()));
  ds.get(index, v.data());
  return v;
}

float unit(int p) { return u8_to_unit(static_cast<uint8_t>(p)); }

// CIFAR record: label, then R, G, B planes with byte(c, y, x) = (seed + c * 80 + y * 5 + x) % 256.
std::string cifar_record(int label, int seed) {
  std::string r(1, static_cast<char>(label));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) r += static_cast<char>((seed + c * 80 + y * 5 + x) % 256);
  return r;
}

ImageU8 solid(int64_t h, int64_t w, uint8_t r, uint8_t g, uint8_t b) {
  ImageU8 img;
  img.height = h;
  img.width = w;
  img.channels = 3;
  for (int64_t i = 0; i < h * w; ++i) img.pixels.insert(img.pixels.end(), {r, g, b});
  return img;
}

// Dataset of n single-channel 2x3 images; image i holds bytes i*8 + (0..5), so each pixel says
// which image and position it came from.
std::shared_ptr<InMemoryDataset> tiny(int64_t n) {
  std::vector<uint8_t> px;
  for (int64_t i = 0; i < n; ++i)
    for (int p = 0; p < 6; ++p) px.push_back(static_cast<uint8_t>(i * 8 + p));
  return std::make_shared<InMemoryDataset>("tiny", 1, 2, 3, std::move(px));
}

bool is_permutation_of_range(std::vector<int64_t> v, int64_t n) {
  std::sort(v.begin(), v.end());
  std::vector<int64_t> want(static_cast<size_t>(n));
  std::iota(want.begin(), want.end(), int64_t{0});
  return v == want;
}

}  // namespace

TEST_CASE("bytes map to [-1, 1] exactly as the reference pipeline computes them", "[data]") {
  CHECK(u8_to_unit(0) == -1.0f);
  CHECK(u8_to_unit(255) == 1.0f);
  CHECK(u8_to_unit(128) == 2.0f * (128.0f / 255.0f) - 1.0f);
  for (int p = 1; p < 256; ++p) CHECK(u8_to_unit(static_cast<uint8_t>(p)) > unit(p - 1));
}

TEST_CASE("IDX images load raw and gzipped, padded with background, with labels", "[data]") {
  TempDir tmp;
  write_raw(tmp.file("train-images-idx3-ubyte"), idx_images(3, 4, 5));
  write_raw(tmp.file("train-labels-idx1-ubyte"), idx_labels({7, 0, 9}));
  write_gz(tmp.file("t10k-images-idx3-ubyte.gz"), idx_images(2, 4, 5));
  write_gz(tmp.file("t10k-labels-idx1-ubyte.gz"), idx_labels({3, 1}));

  for (const std::string split : {"train", "t10k"}) {
    MnistOptions opt;
    opt.dir = tmp.dir.string();
    opt.split = split;
    const auto ds = load_mnist(opt);
    REQUIRE(ds->size() == (split == "train" ? 3 : 2));
    REQUIRE(ds->channels() == 1);
    REQUIRE(ds->height() == 4 + 4);
    REQUIRE(ds->width() == 5 + 4);
    CHECK(ds->label(1) == (split == "train" ? 0 : 1));
    for (int64_t n = 0; n < ds->size(); ++n) {
      const std::vector<float> img = image_of(*ds, n);
      for (int64_t y = 0; y < 8; ++y) {
        for (int64_t x = 0; x < 9; ++x) {
          const bool inside = y >= 2 && y < 6 && x >= 2 && x < 7;
          const float want = inside ? unit(idx_pixel(n, y - 2, x - 2)) : -1.0f;
          CHECK(img[static_cast<size_t>(y * 9 + x)] == want);
        }
      }
    }
    CHECK_THROWS_WITH(ds->get(ds->size(), nullptr), Contains("out of range"));
  }

  // 28x28 becomes 32x32 by default; pad 0 keeps 28x28; labels are optional; "test" means t10k.
  TempDir mn;
  write_gz(mn.file("t10k-images-idx3-ubyte.gz"), idx_images(2, 28, 28));
  MnistOptions opt;
  opt.dir = mn.dir.string();
  opt.split = "test";
  const auto padded = load_mnist(opt);
  CHECK((padded->height() == 32 && padded->width() == 32));
  CHECK(padded->label(0) == -1);
  CHECK(image_of(*padded, 1)[static_cast<size_t>(2 * 32 + 2)] == unit(idx_pixel(1, 0, 0)));
  CHECK(image_of(*padded, 1)[static_cast<size_t>(31 * 32 + 31)] == -1.0f);
  opt.pad = 0;
  CHECK(load_mnist(opt)->height() == 28);
  opt.split = "validation";
  CHECK_THROWS_WITH(load_mnist(opt), Contains("validation"));
}

TEST_CASE("IDX files: missing, truncated, wrong magic and mismatched files name the path",
          "[data]") {
  TempDir tmp;
  const std::string missing = tmp.file("missing-images-idx3-ubyte");
  CHECK_THROWS_WITH(read_idx_images(missing), Contains(missing));

  const std::string good = idx_images(3, 4, 5);
  const std::string trunc = tmp.file("trunc-images");
  write_raw(trunc, good.substr(0, good.size() - 7));
  CHECK_THROWS_WITH(read_idx_images(trunc), Contains(trunc) && Contains("truncated"));
  const std::string header_only = tmp.file("header-only");
  write_raw(header_only, good.substr(0, 10));
  CHECK_THROWS_WITH(read_idx_images(header_only), Contains(header_only) && Contains("truncated"));
  const std::string padded = tmp.file("padded-images");
  write_raw(padded, good + "xy");
  CHECK_THROWS_WITH(read_idx_images(padded), Contains(padded) && Contains("unexpected bytes"));

  // A gzip stream cut short is detected by zlib, not mistaken for a short file.
  const std::string gz = tmp.file("images.gz");
  write_gz(gz, good);
  const std::string cut = tmp.file("cut.gz");
  const std::string gz_bytes = read_raw(gz);
  write_raw(cut, gz_bytes.substr(0, gz_bytes.size() - 12));
  CHECK_THROWS_WITH(read_idx_images(cut), Contains(cut));
  CHECK(read_idx_images(gz).pixels.size() == 60);

  const std::string labels_as_images = tmp.file("labels-as-images");
  write_raw(labels_as_images, idx_labels({1, 2}));
  CHECK_THROWS_WITH(read_idx_images(labels_as_images),
                    Contains(labels_as_images) && Contains("swapped"));
  const std::string junk = tmp.file("junk");
  write_raw(junk, idx_images(1, 2, 2, 0x12345678));
  CHECK_THROWS_WITH(read_idx_images(junk), Contains(junk) && Contains("magic"));
  CHECK_THROWS_WITH(read_idx_labels(trunc), Contains(trunc) && Contains("magic"));

  // Label count must match the image count.
  write_raw(tmp.file("train-images-idx3-ubyte"), good);
  write_raw(tmp.file("train-labels-idx1-ubyte"), idx_labels({1, 2}));
  MnistOptions opt;
  opt.dir = tmp.dir.string();
  CHECK_THROWS_WITH(load_mnist(opt), Contains(tmp.file("train-labels-idx1-ubyte")));
  opt.split = "t10k";
  CHECK_THROWS_WITH(load_mnist(opt), Contains(tmp.dir.string()) && Contains("t10k"));
  opt.dir = tmp.file("nowhere");
  CHECK_THROWS_WITH(load_mnist(opt), Contains(tmp.file("nowhere")));
}

TEST_CASE("CIFAR-10 binary batches: planes in R, G, B order, labels, splits", "[data]") {
  TempDir tmp;
  const fs::path dir = tmp.dir / "cifar-10-batches-bin";
  for (int i = 1; i <= 5; ++i) {
    std::string b;
    for (int r = 0; r < i; ++r) b += cifar_record((i + r) % 10, i * 10 + r);
    write_raw((dir / fmt::format("data_batch_{}.bin", i)).string(), b);
  }
  write_raw((dir / "test_batch.bin").string(), cifar_record(4, 200) + cifar_record(5, 201));

  Cifar10Options opt;
  opt.dir = tmp.dir.string();  // the parent of cifar-10-batches-bin works too
  const auto train = load_cifar10(opt);
  REQUIRE(train->size() == 1 + 2 + 3 + 4 + 5);
  REQUIRE((train->channels() == 3 && train->height() == 32 && train->width() == 32));
  // Image 3 is the first record of data_batch_3: seed 30, label 3.
  CHECK(train->label(3) == 3);
  const std::vector<float> img = image_of(*train, 3);
  for (int c = 0; c < 3; ++c)
    for (int y : {0, 17, 31})
      for (int x : {0, 9, 31})
        CHECK(img[static_cast<size_t>((c * 32 + y) * 32 + x)] ==
              unit((30 + c * 80 + y * 5 + x) % 256));
  CHECK(train->image_u8(14)[0] == (50 + 4) % 256);

  opt.split = "test";
  opt.dir = dir.string();
  const auto test = load_cifar10(opt);
  CHECK(test->size() == 2);
  CHECK(test->label(1) == 5);

  Cifar10Options list;
  list.files = {(dir / "data_batch_2.bin").string(), (dir / "test_batch.bin").string()};
  const auto listed = load_cifar10(list);
  CHECK(listed->size() == 4);
  CHECK(listed->label(2) == 4);
  CHECK(image_of(*listed, 3)[0] == unit(201));
}

TEST_CASE("CIFAR-10: wrong size, bad labels and missing files name the path", "[data]") {
  TempDir tmp;
  const std::string odd = tmp.file("odd.bin");
  write_raw(odd, cifar_record(1, 0) + "abc");
  Cifar10Options opt;
  opt.files = {odd};
  CHECK_THROWS_WITH(load_cifar10(opt), Contains(odd) && Contains("multiple of the 3073-byte"));
  const std::string empty = tmp.file("empty.bin");
  write_raw(empty, "");
  opt.files = {empty};
  CHECK_THROWS_WITH(load_cifar10(opt), Contains(empty));
  const std::string label = tmp.file("label.bin");
  write_raw(label, cifar_record(1, 0) + cifar_record(10, 0));
  opt.files = {label};
  CHECK_THROWS_WITH(load_cifar10(opt), Contains(label) && Contains("record 1"));
  const std::string missing = tmp.file("missing.bin");
  opt.files = {missing};
  CHECK_THROWS_WITH(load_cifar10(opt), Contains(missing));

  Cifar10Options by_dir;
  by_dir.dir = tmp.dir.string();
  CHECK_THROWS_WITH(load_cifar10(by_dir), Contains(tmp.file("data_batch_1.bin")));
  by_dir.dir = tmp.file("nowhere");
  CHECK_THROWS_WITH(load_cifar10(by_dir), Contains(tmp.file("nowhere")));
  CHECK_THROWS_WITH(load_cifar10(Cifar10Options{}), Contains("data directory"));
}

TEST_CASE("image folder: sorted PNG/JPEG files, RGB or gray, crop and resize", "[data]") {
  TempDir tmp;
  const fs::path d = tmp.dir / "faces";
  fs::create_directories(d / "sub");
  // 6x8 RGB with distinct bytes per position and channel.
  ImageU8 ramp = solid(6, 8, 0, 0, 0);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x)
      for (int64_t c = 0; c < 3; ++c) ramp.at(y, x, c) = static_cast<uint8_t>(y * 40 + x * 4 + c);
  write_png((d / "b.png").string(), ramp);
  write_png((d / "a.PNG").string(), solid(6, 8, 10, 20, 30));
  write_jpeg((d / "c.jpeg").string(), solid(6, 8, 200, 100, 50), 100);
  write_png((d / "sub" / "d.png").string(), solid(6, 8, 1, 2, 3));
  write_png((d / ".hidden.png").string(), solid(2, 2, 0, 0, 0));
  write_raw((d / "notes.txt").string(), "not an image");

  ImageFolderOptions opt;
  opt.dir = d.string();
  const ImageFolderDataset flat(opt);
  REQUIRE(flat.size() == 3);
  CHECK(fs::path(flat.files()[0]).filename() == "a.PNG");
  CHECK(fs::path(flat.files()[1]).filename() == "b.png");
  CHECK(fs::path(flat.files()[2]).filename() == "c.jpeg");
  REQUIRE((flat.channels() == 3 && flat.height() == 6 && flat.width() == 8));
  const std::vector<float> a = image_of(flat, 0);
  CHECK(a[0] == unit(10));                             // R plane first
  CHECK(a[static_cast<size_t>(48)] == unit(20));       // G plane
  CHECK(a[static_cast<size_t>(96 + 47)] == unit(30));  // last B pixel
  const std::vector<float> b = image_of(flat, 1);
  CHECK(b[static_cast<size_t>(2 * 48 + 5 * 8 + 7)] == unit(5 * 40 + 7 * 4 + 2));
  const std::vector<float> c = image_of(flat, 2);
  CHECK(std::abs(c[0] - unit(200)) <= 2.0f / 127.5f);  // JPEG is lossy
  CHECK(std::abs(c[static_cast<size_t>(2 * 48 + 20)] - unit(50)) <= 2.0f / 127.5f);

  opt.recursive = true;
  opt.preload = false;
  const ImageFolderDataset rec(opt);
  REQUIRE(rec.size() == 4);
  CHECK(fs::path(rec.files()[3]).filename() == "d.png");
  CHECK(image_of(rec, 1) == b);  // decoding on demand gives the preloaded values
  CHECK(image_of(rec, 3)[0] == unit(1));

  // Centre crop of 4 from 6x8 starts at (1, 2); gray conversion of gray RGB keeps the value.
  const fs::path g = tmp.dir / "gray";
  fs::create_directories(g);
  ImageU8 gray_ramp = ramp;
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x)
      for (int64_t ch = 0; ch < 3; ++ch) gray_ramp.at(y, x, ch) = static_cast<uint8_t>(y * 40 + x);
  write_png((g / "0.png").string(), gray_ramp);
  ImageFolderOptions crop;
  crop.dir = g.string();
  crop.grayscale = true;
  crop.crop_size = 4;
  const ImageFolderDataset cropped(crop);
  REQUIRE((cropped.channels() == 1 && cropped.height() == 4 && cropped.width() == 4));
  const std::vector<float> cv = image_of(cropped, 0);
  CHECK(cv[0] == unit(1 * 40 + 2));
  CHECK(cv[15] == unit(4 * 40 + 5));
  crop.crop_top = 0;
  crop.crop_left = 4;
  CHECK(image_of(ImageFolderDataset(crop), 0)[7] == unit(1 * 40 + 4 + 3));

  // Crop then resize: every image comes out resolution x resolution.
  opt.recursive = false;
  opt.preload = true;
  opt.crop_size = 6;
  opt.resolution = 3;
  const ImageFolderDataset small(opt);
  REQUIRE((small.height() == 3 && small.width() == 3 && small.size() == 3));
  const std::vector<float> sv = image_of(small, 0);
  for (size_t i = 0; i < 9; ++i) CHECK(sv[i] == unit(10));  // the R plane
  opt.crop_size = 0;
  opt.resolution = 4;
  CHECK_THROWS_WITH(ImageFolderDataset(opt),
                    Contains((d / "a.PNG").string()) && Contains("square"));
  opt.crop_size = 7;
  CHECK_THROWS_WITH(ImageFolderDataset(opt), Contains((d / "a.PNG").string()) && Contains("crop"));
}

TEST_CASE("image folder: unreadable files, size mismatches, empty and missing folders", "[data]") {
  TempDir tmp;
  const fs::path d = tmp.dir / "imgs";
  fs::create_directories(d);
  write_png((d / "0.png").string(), solid(4, 4, 1, 2, 3));
  write_raw((d / "1.png").string(), "this is text, not a PNG");
  ImageFolderOptions opt;
  opt.dir = d.string();
  CHECK_THROWS_WITH(ImageFolderDataset(opt), Contains((d / "1.png").string()));
  opt.preload = false;  // found on first use instead
  const ImageFolderDataset lazy(opt);
  std::vector<float> out(48);
  CHECK_THROWS_WITH(lazy.get(1, out.data()), Contains((d / "1.png").string()));

  fs::remove(d / "1.png");
  write_png((d / "2.png").string(), solid(5, 4, 1, 2, 3));
  opt.preload = true;
  CHECK_THROWS_WITH(ImageFolderDataset(opt), Contains((d / "2.png").string()) && Contains("5x4"));
  opt.resolution = 4;
  opt.crop_size = 4;
  CHECK(ImageFolderDataset(opt).size() == 2);

  const fs::path empty = tmp.dir / "empty";
  fs::create_directories(empty / "nested");
  write_png((empty / "nested" / "x.png").string(), solid(4, 4, 1, 2, 3));
  ImageFolderOptions e;
  e.dir = empty.string();
  CHECK_THROWS_WITH(ImageFolderDataset(e), Contains(empty.string()) && Contains("recursive"));
  e.dir = tmp.file("missing");
  CHECK_THROWS_WITH(ImageFolderDataset(e), Contains(tmp.file("missing")));
}

TEST_CASE("data loader: seeded per-epoch permutations", "[data]") {
  const auto ds = tiny(50);
  DataLoaderOptions o;
  o.batch_size = 8;
  o.seed = 1234;
  const DataLoader a(ds, o), b(ds, o);
  CHECK(a.order(0) == b.order(0));
  CHECK(a.order(3) == b.order(3));
  CHECK(a.order(0) != a.order(1));
  CHECK(is_permutation_of_range(a.order(0), 50));
  CHECK(is_permutation_of_range(a.order(1), 50));
  o.seed = 1235;
  CHECK(DataLoader(ds, o).order(0) != a.order(0));
  o.shuffle = false;
  const std::vector<int64_t> id = DataLoader(ds, o).order(2);
  CHECK(std::is_sorted(id.begin(), id.end()));
  CHECK(is_permutation_of_range(id, 50));
}

TEST_CASE("data loader: batches follow the order, drop_last and epochs", "[data]") {
  const auto ds = tiny(10);
  DataLoaderOptions o;
  o.batch_size = 3;
  o.seed = 7;
  DataLoader dl(ds, o);
  CHECK(dl.batches_per_epoch() == 3);
  const std::vector<int64_t> ord0 = dl.order(0);
  std::vector<int64_t> seen;
  for (int i = 0; i < 3; ++i) {
    const Batch batch = dl.next();
    CHECK(batch.epoch == 0);
    CHECK(batch.position == 3 * i);
    REQUIRE(batch.images.shape() == Shape{3, 1, 2, 3});
    const std::vector<double> v = batch.images.to_vector();
    for (int64_t k = 0; k < 3; ++k) {
      const int64_t idx = batch.indices[static_cast<size_t>(k)];
      CHECK(idx == ord0[static_cast<size_t>(3 * i + k)]);
      for (int p = 0; p < 6; ++p)
        CHECK(v[static_cast<size_t>(k * 6 + p)] == unit(static_cast<int>(idx * 8 + p)));
      seen.push_back(idx);
    }
  }
  std::set<int64_t> distinct(seen.begin(), seen.end());
  CHECK(distinct.size() == 9);  // one sample of the epoch dropped, none repeated
  CHECK(dl.epoch() == 1);
  CHECK(dl.position() == 0);
  const Batch e1 = dl.next();
  CHECK(e1.epoch == 1);
  CHECK(e1.indices[0] == dl.order(1)[0]);

  o.drop_last = false;
  DataLoader keep(ds, o);
  CHECK(keep.batches_per_epoch() == 4);
  std::vector<int64_t> all;
  std::vector<int64_t> sizes;
  for (int i = 0; i < 4; ++i) {
    const Batch batch = keep.next();
    sizes.push_back(batch.images.size(0));
    all.insert(all.end(), batch.indices.begin(), batch.indices.end());
  }
  CHECK(sizes == std::vector<int64_t>{3, 3, 3, 1});
  CHECK(is_permutation_of_range(all, 10));
  CHECK(keep.next().epoch == 1);

  o.drop_last = true;
  o.batch_size = 11;
  CHECK_THROWS_WITH(DataLoader(ds, o), Contains("fewer images than one batch"));
  o.batch_size = 0;
  CHECK_THROWS_AS(DataLoader(ds, o), Error);
}

TEST_CASE("data loader: random flips are seeded per sample and mirror rows", "[data]") {
  const auto ds = tiny(40);
  DataLoaderOptions o;
  o.batch_size = 40;
  o.random_flip = true;
  o.seed = 99;
  DataLoader dl(ds, o);
  int flipped = 0;
  for (int epoch = 0; epoch < 25; ++epoch) {
    const Batch batch = dl.next();
    const std::vector<double> v = batch.images.to_vector();
    for (int64_t k = 0; k < 40; ++k) {
      const int64_t idx = batch.indices[static_cast<size_t>(k)];
      const bool f = batch.flipped[static_cast<size_t>(k)] != 0;
      CHECK(f == dl.flip(epoch, k));
      flipped += f;
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) {
          const int src_x = f ? 2 - x : x;
          CHECK(v[static_cast<size_t>(k * 6 + y * 3 + x)] ==
                unit(static_cast<int>(idx * 8 + y * 3 + src_x)));
        }
    }
  }
  CHECK(flipped > 400);  // 1000 fair coin flips
  CHECK(flipped < 600);
  o.random_flip = false;
  DataLoader plain(ds, o);
  const Batch p = plain.next();
  CHECK(std::all_of(p.flipped.begin(), p.flipped.end(), [](uint8_t f) { return f == 0; }));
}

TEST_CASE("data loader: resuming from (epoch, position) reproduces the run", "[data]") {
  const auto ds = tiny(23);
  DataLoaderOptions o;
  o.batch_size = 4;
  o.random_flip = true;
  o.seed = 5;
  DataLoader a(ds, o);
  for (int i = 0; i < 7; ++i) a.next();  // into epoch 1 (5 batches per epoch)
  const int64_t epoch = a.epoch(), position = a.position();
  CHECK(epoch == 1);
  CHECK(position == 8);
  std::vector<Batch> rest;
  for (int i = 0; i < 6; ++i) rest.push_back(a.next());

  DataLoader b(ds, o);
  b.seek(epoch, position);
  for (const Batch& want : rest) {
    const Batch got = b.next();
    CHECK(got.epoch == want.epoch);
    CHECK(got.indices == want.indices);
    CHECK(got.flipped == want.flipped);
    CHECK(got.images.to_vector() == want.images.to_vector());
  }
  // A position with no full batch left moves on to the next epoch.
  b.seek(3, 21);
  CHECK((b.epoch() == 4 && b.position() == 0));
  CHECK_THROWS_WITH(b.seek(0, 24), Contains("out of range"));
}

TEST_CASE("the installed Fashion-MNIST loads as 60000 images of 32x32", "[data]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) {
    WARN(dir << " is absent (install dataset-fashion-mnist); skipping");
    return;
  }
  const auto ds = load_mnist();
  REQUIRE(ds->size() == 60000);
  REQUIRE((ds->channels() == 1 && ds->height() == 32 && ds->width() == 32));
  std::vector<float> img(1024);
  float lo = 1, hi = -1;
  bool border_is_background = true;
  std::set<int64_t> labels;
  for (int64_t i = 0; i < ds->size(); ++i) {
    ds->get(i, img.data());
    const auto [mn, mx] = std::minmax_element(img.begin(), img.end());
    lo = std::min(lo, *mn);
    hi = std::max(hi, *mx);
    for (int k = 0; k < 32; ++k)
      border_is_background = border_is_background && img[static_cast<size_t>(k)] == -1.0f &&
                             img[static_cast<size_t>(k * 32 + 1)] == -1.0f;
    labels.insert(ds->label(i));
  }
  CHECK(lo == -1.0f);
  CHECK(hi == 1.0f);
  CHECK(border_is_background);
  CHECK(labels == std::set<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  MnistOptions test;
  test.split = "t10k";
  CHECK(load_mnist(test)->size() == 10000);
}
