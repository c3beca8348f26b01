// IDX file reading via zlib's gz* functions, which read gzip and plain files alike.
#include "engine/data/mnist.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

namespace s2dm {

namespace {

constexpr uint32_t kImagesMagic = 2051;
constexpr uint32_t kLabelsMagic = 2049;

uint32_t be32(const std::string& b, size_t pos) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b[pos + i]);
  return v;
}

void check_magic(const std::string& path, const std::string& bytes, uint32_t want) {
  S2DM_CHECK(bytes.size() >= 4, "{}: truncated IDX file ({} bytes, no header)", path, bytes.size());
  const uint32_t magic = be32(bytes, 0);
  if (magic == want) return;
  const char* kind = want == kImagesMagic ? "image" : "label";
  if (magic == kImagesMagic || magic == kLabelsMagic)
    fail(
        "{}: expected an IDX {} file (magic {}) but found magic {}; the images and labels "
        "files may be swapped",
        path, kind, want, magic);
  fail(
      "{}: not an IDX {} file (magic {}, expected {}); use the *-ubyte or *-ubyte.gz files of "
      "MNIST/Fashion-MNIST",
      path, kind, magic, want);
}

// Payload after a header of `header` bytes must hold exactly `need` bytes.
void check_payload(const std::string& path, size_t size, size_t header, uint64_t need,
                   const std::string& what) {
  const uint64_t have = size - header;
  S2DM_CHECK(have >= need,
             "{}: truncated IDX file: the header announces {} ({} bytes), only {} "
             "bytes follow; download the file again",
             path, what, need, have);
  S2DM_CHECK(have == need, "{}: {} unexpected bytes after the {} announced by the IDX header", path,
             have - need, what);
}

std::string find_file(const std::string& dir, const std::string& split, bool images,
                      bool required) {
  // The usual distribution name, gzipped or not, and the dotted variant some mirrors use
  // ("train-images.idx3-ubyte").
  const std::string stem = split + (images ? "-images-idx3-ubyte" : "-labels-idx1-ubyte");
  std::string dotted = stem;
  dotted[split.size() + 7] = '.';
  const std::vector<std::string> candidates = {stem, stem + ".gz", dotted, dotted + ".gz"};
  for (const std::string& name : candidates) {
    const std::filesystem::path p = std::filesystem::path(dir) / name;
    if (std::filesystem::is_regular_file(p)) return p.string();
  }
  if (required)
    fail(
        "no MNIST {} file for split '{}' in {} (looked for {} and {}.gz); install the "
        "dataset-fashion-mnist package or point the data directory at a folder holding the IDX "
        "files",
        images ? "images" : "labels", split, dir, stem, stem);
  return {};
}

}  // namespace

std::string read_maybe_gzip(const std::string& path) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  S2DM_CHECK(f != nullptr, "cannot open {}: {}", path,
             errno != 0 ? std::strerror(errno) : "out of memory");
  gzbuffer(f, 1 << 20);
  std::string out;
  constexpr unsigned kChunk = 1 << 20;
  for (;;) {
    const size_t at = out.size();
    out.resize(at + kChunk);
    const int n = gzread(f, out.data() + at, kChunk);
    if (n < 0) {
      int code = 0;
      const std::string why = gzerror(f, &code);
      gzclose(f);
      fail("cannot read {}: {} (the file is truncated or corrupt; download it again)", path, why);
    }
    out.resize(at + static_cast<size_t>(n));
    if (n == 0) break;
  }
  int code = 0;
  const std::string why = gzerror(f, &code);
  const int closed = gzclose(f);
  S2DM_CHECK(code == Z_OK && closed == Z_OK,
             "cannot read {}: {} (the file is truncated or corrupt; download it again)", path,
             code != Z_OK ? why : "error closing the file");
  return out;
}

IdxImages read_idx_images(const std::string& path) {
  const std::string b = read_maybe_gzip(path);
  check_magic(path, b, kImagesMagic);
  S2DM_CHECK(b.size() >= 16, "{}: truncated IDX image header ({} bytes)", path, b.size());
  IdxImages img;
  img.count = be32(b, 4);
  img.rows = be32(b, 8);
  img.cols = be32(b, 12);
  S2DM_CHECK(img.rows > 0 && img.cols > 0, "{}: IDX images of {}x{} pixels", path, img.rows,
             img.cols);
  const uint64_t need = static_cast<uint64_t>(img.count) * static_cast<uint64_t>(img.rows) *
                        static_cast<uint64_t>(img.cols);
  check_payload(path, b.size(), 16, need,
                fmt::format("{} images of {}x{}", img.count, img.rows, img.cols));
  img.pixels.assign(b.begin() + 16, b.end());
  return img;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  const std::string b = read_maybe_gzip(path);
  check_magic(path, b, kLabelsMagic);
  S2DM_CHECK(b.size() >= 8, "{}: truncated IDX label header ({} bytes)", path, b.size());
  const uint32_t count = be32(b, 4);
  check_payload(path, b.size(), 8, count, fmt::format("{} labels", count));
  return std::vector<uint8_t>(b.begin() + 8, b.end());
}

std::shared_ptr<InMemoryDataset> load_mnist(const MnistOptions& options) {
  std::string split = options.split;
  if (split == "test") split = "t10k";
  S2DM_CHECK(split == "train" || split == "t10k", "unknown MNIST split '{}'; use 'train' or 't10k'",
             options.split);
  S2DM_CHECK(options.pad >= 0 && options.pad <= 1024, "MNIST padding must be 0..1024, got {}",
             options.pad);
  S2DM_CHECK(std::filesystem::is_directory(options.dir),
             "MNIST data directory {} does not exist; install the dataset-fashion-mnist package "
             "or pass the folder holding the IDX files",
             options.dir);
  const std::string images_path = find_file(options.dir, split, true, true);
  const IdxImages idx = read_idx_images(images_path);
  const std::string labels_path = find_file(options.dir, split, false, false);
  std::vector<int16_t> labels;
  if (!labels_path.empty()) {
    const std::vector<uint8_t> raw = read_idx_labels(labels_path);
    S2DM_CHECK(static_cast<int64_t>(raw.size()) == idx.count,
               "{} holds {} labels but {} holds {} images; the files belong to different splits",
               labels_path, raw.size(), images_path, idx.count);
    labels.assign(raw.begin(), raw.end());
  }

  const int64_t p = options.pad;
  const int64_t h = idx.rows + 2 * p, w = idx.cols + 2 * p;
  std::vector<uint8_t> pixels(static_cast<size_t>(idx.count * h * w), 0);
  for (int64_t n = 0; n < idx.count; ++n)
    for (int64_t y = 0; y < idx.rows; ++y)
      std::memcpy(&pixels[static_cast<size_t>((n * h + y + p) * w + p)],
                  &idx.pixels[static_cast<size_t>((n * idx.rows + y) * idx.cols)],
                  static_cast<size_t>(idx.cols));
  return std::make_shared<InMemoryDataset>(fmt::format("MNIST-format {} ({})", split, images_path),
                                           1, h, w, std::move(pixels), std::move(labels));
}

}  // namespace s2dm
