// The feature networks s2dm-fid measures in, by name:
//   inception  pytorch-fid's FID Inception-v3, 2048-d pool3 features (weights converted by
//              tools/python/convert_fid_weights.py; --weights or $S2DM_FID_WEIGHTS)
//   fmnist     the Fashion-MNIST feature network, 128-d (weights in the repository), for
//              1-channel 28×28 / 32×32 images on a CPU in seconds
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/nn/layers.h"
#include "engine/tensor.h"

namespace s2dm {

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  virtual std::string name() const = 0;
  virtual int64_t dim() const = 0;
  // images [B, C, H, W] in [0, 1] (byte / 255, on the CPU) -> features [B, dim()] on the device.
  virtual Tensor features(const Tensor& images) const = 0;
};

// `weights` = "" takes the default file (see above); a clear error when it is missing.
std::unique_ptr<FeatureExtractor> make_feature_extractor(const std::string& kind,
                                                         const std::string& weights,
                                                         LayerOptions opt = {});

// Where the fmnist network's weights are looked for by default.
std::string default_fmnist_weights();

}  // namespace s2dm
