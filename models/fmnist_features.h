// The Fashion-MNIST feature network: a small CNN classifier of 32×32 grayscale images whose
// penultimate layer (128-d, after ReLU) is the feature space in which s2dm-fid measures
// Fashion-MNIST and MNIST models on a CPU (`--features fmnist`), as Inception's pool3 is for
// natural images. It is trained by s2dm itself (eval/feature_net_training.h, the command in
// docs/evaluation.md); the weights live in models/weights/fmnist_features.safetensors.
//
//   conv 1→16 3×3 · ReLU                      32×32
//   conv 16→32 3×3 stride 2 · ReLU            16×16
//   conv 32→64 3×3 stride 2 · ReLU             8×8
//   conv 64→64 3×3 stride 2 · ReLU             4×4
//   fc 1024→128 · ReLU  = the features
//   dropout (training only) · fc 128→10 = the class logits
#pragma once
#include <memory>
#include <string>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/ops/random.h"

namespace s2dm {

class FmnistFeatureNet : public Module {
 public:
  static constexpr int64_t kFeatures = 128;
  static constexpr int64_t kClasses = 10;
  static constexpr int64_t kSize = 32;

  FmnistFeatureNet(Generator& init, LayerOptions opt = {});
  // Reads a safetensors file of this network (strict: every name and shape).
  void load(const std::string& path);

  // x [B, 1, 32, 32] in [−1, 1] (a Dataset's values) -> features [B, 128].
  Tensor features_of(const Tensor& x) const;
  // x as above -> logits [B, 10]; dropout on the features in training mode.
  Tensor logits(const Tensor& x, Generator& dropout_gen) const;
  // images [B, 1, 28 or 32, same] in [0, 1] (byte / 255) -> features [B, 128]: 28×28 images are
  // padded by 2 with background as s2dm's Fashion-MNIST loader does, then mapped to [−1, 1].
  Tensor features(const Tensor& images) const;

  double dropout = 0.3;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_, conv4_;
  std::shared_ptr<Linear> fc1_, fc2_;
  LayerOptions opt_;
};

}  // namespace s2dm
