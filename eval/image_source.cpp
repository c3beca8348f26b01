// The image sources of s2dm-fid: data sets, folders and .npz image archives.
#include "eval/image_source.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "engine/data/cifar10.h"
#include "engine/data/image_folder.h"
#include "engine/data/mnist.h"
#include "engine/error.h"
#include "engine/io/npz.h"

namespace s2dm {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A Dataset hands out 2·(p/255) − 1 in float; the byte is recovered exactly by rounding
// (the error is far below half a step) and divided again, so every source gives p / 255.
class DatasetSource final : public ImageSource {
 public:
  explicit DatasetSource(std::shared_ptr<const Dataset> d) : d_(std::move(d)) {}
  int64_t size() const override { return d_->size(); }
  int64_t channels() const override { return d_->channels(); }
  int64_t height() const override { return d_->height(); }
  int64_t width() const override { return d_->width(); }
  std::string describe() const override { return d_->describe(); }
  Tensor batch(int64_t begin, int64_t end) const override {
    S2DM_CHECK(0 <= begin && begin <= end && end <= size(), "images [{}, {}) of {}", begin, end,
               size());
    const int64_t per = d_->image_numel();
    Tensor out = Tensor::empty({end - begin, channels(), height(), width()}, DType::F32);
    float* p = out.data<float>();
    for (int64_t i = begin; i < end; ++i) d_->get(i, p + (i - begin) * per);
    for (int64_t k = 0; k < out.numel(); ++k)
      p[k] = static_cast<float>(std::lround((p[k] + 1.0f) * 127.5f)) / 255.0f;
    return out;
  }

 private:
  std::shared_ptr<const Dataset> d_;
};

class NpzSource final : public ImageSource {
 public:
  explicit NpzSource(const std::string& path) : path_(path) {
    std::vector<NpzArray> arrays = load_npz(path);
    S2DM_CHECK(!arrays.empty(), "{} holds no arrays", path);
    const bool has_arr0 = std::any_of(arrays.begin(), arrays.end(),
                                      [](const NpzArray& a) { return a.name == "arr_0"; });
    S2DM_CHECK(has_arr0 || arrays.size() == 1,
               "{} holds several arrays and none is arr_0: which are the images?", path);
    NpzArray a = has_arr0 ? find_npz_array(arrays, "arr_0", path) : arrays[0];
    S2DM_CHECK(a.descr == "|u1",
               "{}: the images must be uint8 (numpy dtype |u1), got {}; save them with "
               "np.savez(path, images.astype(np.uint8))", path, a.descr);
    S2DM_CHECK(a.shape.size() == 3 || (a.shape.size() == 4 && (a.shape[3] == 1 || a.shape[3] == 3)),
               "{}: the images must be N x H x W x C with C = 1 or 3 (or N x H x W), got {}", path,
               shape_str(a.shape));
    n_ = a.shape[0];
    h_ = a.shape[1];
    w_ = a.shape[2];
    c_ = a.shape.size() == 4 ? a.shape[3] : 1;
    S2DM_CHECK(n_ >= 1 && h_ >= 1 && w_ >= 1, "{} holds no images ({})", path, shape_str(a.shape));
    pixels_ = std::move(a.data);
  }
  int64_t size() const override { return n_; }
  int64_t channels() const override { return c_; }
  int64_t height() const override { return h_; }
  int64_t width() const override { return w_; }
  std::string describe() const override {
    return fmt::format("{}: {} images {}x{}x{}", path_, n_, c_, h_, w_);
  }
  Tensor batch(int64_t begin, int64_t end) const override {
    S2DM_CHECK(0 <= begin && begin <= end && end <= n_, "images [{}, {}) of {}", begin, end, n_);
    Tensor out = Tensor::empty({end - begin, c_, h_, w_}, DType::F32);
    float* p = out.data<float>();
    const auto* src = reinterpret_cast<const uint8_t*>(pixels_.data());
    const int64_t hw = h_ * w_;
    for (int64_t i = begin; i < end; ++i)  // NHWC bytes -> NCHW
      for (int64_t y = 0; y < hw; ++y)
        for (int64_t c = 0; c < c_; ++c)
          p[((i - begin) * c_ + c) * hw + y] = static_cast<float>(src[(i * hw + y) * c_ + c]) / 255.0f;
    return out;
  }

 private:
  std::string path_;
  int64_t n_ = 0, c_ = 0, h_ = 0, w_ = 0;
  std::string pixels_;
};

std::shared_ptr<const Dataset> open_dataset(const std::string& kind, const std::string& split,
                                            const std::string& data_path) {
  if (kind == "fmnist" || kind == "mnist") {
    MnistOptions o;
    if (!data_path.empty()) o.dir = data_path;
    else if (kind == "mnist") o.dir = "/usr/share/datasets/mnist";
    o.split = split == "test" ? "t10k" : split;
    return load_mnist(o);
  }
  Cifar10Options o;
  o.dir = data_path;
  o.split = split == "t10k" ? "test" : split;
  S2DM_CHECK(!o.dir.empty(), "cifar10 needs --data-path: the folder with data_batch_1.bin ...");
  return load_cifar10(o);
}

}  // namespace

std::unique_ptr<ImageSource> open_image_source(const std::string& spec,
                                               const std::string& data_path, bool gray_folders) {
  const std::string kind = spec.substr(0, spec.find(':'));
  if (kind == "fmnist" || kind == "mnist" || kind == "cifar10") {
    const std::string split = spec.size() > kind.size() ? spec.substr(kind.size() + 1) : "train";
    S2DM_CHECK(split == "train" || split == "test" || split == "t10k",
               "{}: the split must be train or test, got '{}'", spec, split);
    return std::make_unique<DatasetSource>(open_dataset(kind, split, data_path));
  }
  namespace fs = std::filesystem;
  if (fs::is_directory(spec)) {
    ImageFolderOptions o;
    o.dir = spec;
    o.grayscale = gray_folders;
    auto folder = std::make_shared<ImageFolderDataset>(o);
    S2DM_CHECK(folder->size() >= 1, "{} holds no PNG or JPEG images", spec);
    return std::make_unique<DatasetSource>(std::move(folder));
  }
  S2DM_CHECK(fs::exists(spec),
             "'{}' is not a data set (fmnist, mnist, cifar10 with an optional :train or :test), "
             "a folder of images or an .npz file", spec);
  S2DM_CHECK(ends_with(spec, ".npz"), "{}: give a folder of images or an .npz of uint8 images",
             spec);
  return std::make_unique<NpzSource>(spec);
}

bool is_stats_npz(const std::string& path) {
  if (!ends_with(path, ".npz") || !std::filesystem::is_regular_file(path)) return false;
  bool mu = false, sigma = false;
  for (const NpzArray& a : load_npz(path)) {
    mu = mu || a.name == "mu";
    sigma = sigma || a.name == "sigma";
  }
  return mu && sigma;
}

}  // namespace s2dm
