// The Fashion-MNIST feature network (structure in fmnist_features.h).
#include "models/fmnist_features.h"

#include <limits>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"

namespace s2dm {

namespace {
Tensor relu(const Tensor& x) { return clamp(x, 0.0, std::numeric_limits<double>::infinity()); }
}  // namespace

FmnistFeatureNet::FmnistFeatureNet(Generator& g, LayerOptions opt) : opt_(opt) {
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(1, 16, 3, 1, 1, g, true, opt));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(16, 32, 3, 2, 1, g, true, opt));
  conv3_ = register_module("conv3", std::make_shared<Conv2d>(32, 64, 3, 2, 1, g, true, opt));
  conv4_ = register_module("conv4", std::make_shared<Conv2d>(64, 64, 3, 2, 1, g, true, opt));
  fc1_ = register_module("fc1", std::make_shared<Linear>(64 * 4 * 4, kFeatures, g, true, opt));
  fc2_ = register_module("fc2", std::make_shared<Linear>(kFeatures, kClasses, g, true, opt));
}

void FmnistFeatureNet::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  std::map<std::string, Tensor> state(file.tensors.begin(), file.tensors.end());
  try {
    load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    fail("{} is not a Fashion-MNIST feature network file ({}); rebuild it with the command in "
         "docs/evaluation.md", path, e.what());
  }
  train(false);
}

Tensor FmnistFeatureNet::features_of(const Tensor& x) const {
  S2DM_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == kSize && x.size(3) == kSize,
             "the fmnist feature network takes [B, 1, 32, 32] images, got {}", x.str());
  Tensor h = relu(conv1_->forward(x));
  h = relu(conv2_->forward(h));
  h = relu(conv3_->forward(h));
  h = relu(conv4_->forward(h));
  return relu(fc1_->forward(h.reshape({x.size(0), 64 * 4 * 4})));
}

Tensor FmnistFeatureNet::logits(const Tensor& x, Generator& dropout_gen) const {
  return fc2_->forward(s2dm::dropout(features_of(x), dropout, dropout_gen, is_training()));
}

Tensor FmnistFeatureNet::features(const Tensor& images) const {
  S2DM_CHECK(images.dim() == 4 && images.size(1) == 1 &&
                 ((images.size(2) == 28 && images.size(3) == 28) ||
                  (images.size(2) == kSize && images.size(3) == kSize)),
             "--features fmnist takes 1-channel 28x28 or 32x32 images (Fashion-MNIST, MNIST), got "
             "{}; use --features inception for other images", images.str());
  NoGradGuard no_grad;
  Tensor x = images.to(opt_.device).to(opt_.dtype);
  if (x.size(2) == 28) x = pad2d(x, 2, 2, 2, 2, 0.0);  // background is 0 in [0, 1]
  return features_of(add_scalar(mul_scalar(x, 2.0), -1.0));
}

}  // namespace s2dm
