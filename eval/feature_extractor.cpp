// Feature networks by name (feature_extractor.h).
#include "eval/feature_extractor.h"

#include <cstdlib>
#include <filesystem>

#include "engine/error.h"
#include "models/fmnist_features.h"
#include "models/inception_fid.h"

namespace s2dm {

namespace {

class InceptionExtractor final : public FeatureExtractor {
 public:
  InceptionExtractor(const std::string& weights, LayerOptions opt) : net_(opt) { net_.load(weights); }
  std::string name() const override { return "inception"; }
  int64_t dim() const override { return InceptionFid::kFeatures; }
  Tensor features(const Tensor& images) const override { return net_.features(images); }

 private:
  InceptionFid net_;
};

class FmnistExtractor final : public FeatureExtractor {
 public:
  FmnistExtractor(const std::string& weights, LayerOptions opt) : init_(0), net_(init_, opt) {
    net_.load(weights);
  }
  std::string name() const override { return "fmnist"; }
  int64_t dim() const override { return FmnistFeatureNet::kFeatures; }
  Tensor features(const Tensor& images) const override { return net_.features(images); }

 private:
  Generator init_;  // the initial values are replaced by the loaded weights
  FmnistFeatureNet net_;
};

}  // namespace

std::string default_fmnist_weights() {
  return std::string(S2DM_SOURCE_DIR) + "/models/weights/fmnist_features.safetensors";
}

std::unique_ptr<FeatureExtractor> make_feature_extractor(const std::string& kind,
                                                         const std::string& weights,
                                                         LayerOptions opt) {
  namespace fs = std::filesystem;
  if (kind == "fmnist") {
    const std::string path = weights.empty() ? default_fmnist_weights() : weights;
    S2DM_CHECK(fs::exists(path), "the fmnist feature network's weights {} do not exist; pass "
               "--weights or rebuild them with the command in docs/evaluation.md", path);
    return std::make_unique<FmnistExtractor>(path, opt);
  }
  S2DM_CHECK(kind == "inception", "--features must be inception or fmnist, got '{}'", kind);
  std::string path = weights;
  if (path.empty()) {
    const char* env = std::getenv("S2DM_FID_WEIGHTS");
    path = env != nullptr ? env : "";
  }
  S2DM_CHECK(!path.empty(),
             "--features inception needs the FID Inception weights: convert pytorch-fid's "
             "pt_inception-2015-12-05-6726825d.pth with tools/python/convert_fid_weights.py and "
             "pass the result with --weights (or set S2DM_FID_WEIGHTS)");
  S2DM_CHECK(fs::exists(path), "the Inception weights {} do not exist", path);
  return std::make_unique<InceptionExtractor>(path, opt);
}

}  // namespace s2dm
