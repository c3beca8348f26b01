// IDX file reading via zlib's gz* functions, which read gzip and plain files alike. The header is
// read first and only the payload it announces after it, with size arithmetic overflow-checked.
#include "engine/data/mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

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

// A file read through zlib's gz* functions (gzip or plain alike) a piece at a time, so callers
// read the header first and then only as much payload as it announces: a header's claim never
// sizes an allocation by itself, and a compressed stream is never inflated past what is needed.
class GzInput {
 public:
  explicit GzInput(const std::string& path) : path_(path) {
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    S2DM_CHECK(f_ != nullptr, "cannot open {}: {}", path,
               errno != 0 ? std::strerror(errno) : "out of memory");
    gzbuffer(f_, 1 << 20);
  }
  ~GzInput() {
    if (f_ != nullptr) gzclose(f_);
  }
  GzInput(const GzInput&) = delete;
  GzInput& operator=(const GzInput&) = delete;

  // Appends up to n bytes to out; fewer only at the end of the file. The buffer grows with the
  // data actually read (doubling), never by n up front.
  void read(std::string& out, uint64_t n) {
    constexpr size_t kMinChunk = size_t{1} << 16, kMaxChunk = size_t{1} << 26;
    while (n > 0) {
      const size_t at = out.size();
      const size_t chunk = static_cast<size_t>(
          std::min<uint64_t>(n, std::clamp<size_t>(at, kMinChunk, kMaxChunk)));
      out.resize(at + chunk);
      const int got = gzread(f_, out.data() + at, static_cast<unsigned>(chunk));
      if (got < 0) {
        int code = 0;
        const std::string why = gzerror(f_, &code);
        fail("cannot read {}: {} (the file is truncated or corrupt; download it again)", path_,
             why);
      }
      out.resize(at + static_cast<size_t>(got));
      if (got == 0) break;
      n -= static_cast<uint64_t>(got);
    }
  }

  // Closes the file, failing if zlib saw an error (a bad CRC or a cut-off gzip stream).
  void close() {
    int code = 0;
    const std::string why = gzerror(f_, &code);
    const int closed = gzclose(f_);
    f_ = nullptr;
    S2DM_CHECK(code == Z_OK && closed == Z_OK,
               "cannot read {}: {} (the file is truncated or corrupt; download it again)", path_,
               code != Z_OK ? why : "error closing the file");
  }

 private:
  const std::string& path_;
  gzFile f_ = nullptr;
};

// Reads the header (already in `b`, `header` bytes) announced payload of `need` bytes after it:
// exactly that much must follow. One byte more is read to tell a longer file apart.
void read_payload(GzInput& in, std::string& b, const std::string& path, size_t header,
                  uint64_t need, const std::string& what) {
  in.read(b, need < std::numeric_limits<uint64_t>::max() ? need + 1 : need);
  const uint64_t have = b.size() - header;
  S2DM_CHECK(have >= need,
             "{}: truncated IDX file: the header announces {} ({} bytes), only {} "
             "bytes follow; download the file again",
             path, what, need, have);
  S2DM_CHECK(have == need,
             "{}: unexpected bytes after the {} announced by the IDX header (the file is longer "
             "than its header says)",
             path, what);
  in.close();
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
  GzInput in(path);
  std::string out;
  in.read(out, std::numeric_limits<uint64_t>::max());
  in.close();
  return out;
}

IdxImages read_idx_images(const std::string& path) {
  GzInput in(path);
  std::string b;
  in.read(b, 16);
  check_magic(path, b, kImagesMagic);
  S2DM_CHECK(b.size() >= 16, "{}: truncated IDX image header ({} bytes)", path, b.size());
  IdxImages img;
  img.count = be32(b, 4);
  img.rows = be32(b, 8);
  img.cols = be32(b, 12);
  S2DM_CHECK(img.rows > 0 && img.cols > 0, "{}: IDX images of {}x{} pixels", path, img.rows,
             img.cols);
  // Three 32-bit factors can exceed 64 bits (2^31 images of 2^31 x 4 pixels wraps to 0).
  uint64_t need = 0;
  S2DM_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(img.count),
                                     static_cast<uint64_t>(img.rows) *
                                         static_cast<uint64_t>(img.cols),
                                     &need),
             "{}: corrupt IDX header: {} images of {}x{} pixels are more bytes than any file holds",
             path, img.count, img.rows, img.cols);
  read_payload(in, b, path, 16, need,
               fmt::format("{} images of {}x{}", img.count, img.rows, img.cols));
  img.pixels.assign(b.begin() + 16, b.end());
  return img;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  GzInput in(path);
  std::string b;
  in.read(b, 8);
  check_magic(path, b, kLabelsMagic);
  S2DM_CHECK(b.size() >= 8, "{}: truncated IDX label header ({} bytes)", path, b.size());
  const uint32_t count = be32(b, 4);
  read_payload(in, b, path, 8, count, fmt::format("{} labels", count));
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
  // The padded size is checked too: with zero images the header's dimensions are bounded by
  // nothing in the file.
  int64_t padded = 0;
  S2DM_CHECK(!__builtin_mul_overflow(h, w, &padded) &&
                 !__builtin_mul_overflow(padded, idx.count, &padded),
             "{}: {} images of {}x{} pixels padded to {}x{} are too large", images_path,
             idx.count, idx.rows, idx.cols, h, w);
  std::vector<uint8_t> pixels(static_cast<size_t>(padded), 0);
  for (int64_t n = 0; n < idx.count; ++n)
    for (int64_t y = 0; y < idx.rows; ++y)
      std::memcpy(&pixels[static_cast<size_t>((n * h + y + p) * w + p)],
                  &idx.pixels[static_cast<size_t>((n * idx.rows + y) * idx.cols)],
                  static_cast<size_t>(idx.cols));
  return std::make_shared<InMemoryDataset>(fmt::format("MNIST-format {} ({})", split, images_path),
                                           1, h, w, std::move(pixels), std::move(labels));
}

}  // namespace s2dm
