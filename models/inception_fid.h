// The FID network: Inception-v3 as pytorch-fid defines it for FID (the network of TensorFlow's
// FID code, weights of 2015-12-05), up to the 2048-d pool3 features. Inference only; float32 (or
// float64) on any backend.
//
// It differs from torchvision's Inception-v3 where pytorch-fid's FID blocks do: the average pools
// inside the A, C and first E blocks leave padding out of the count, and the last E block pools
// its branch with a 3×3 max pool instead of an average.
//
// Parameter names are pytorch-fid's state-dict names (Conv2d_1a_3x3, Mixed_5b.branch1x1, ...,
// Mixed_7c.branch_pool), each convolution as "<name>.conv.weight" [out, in, kh, kw] and
// "<name>.conv.bias" [out]: tools/python/convert_fid_weights.py folds every batch norm (eps 0.001)
// into the convolution before it, so a BasicConv2d here is one convolution plus ReLU.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"

namespace s2dm {

// One step of the network's forward pass.
class InceptionLayer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) const = 0;
};

// Convolution (batch norm folded in) then ReLU: torchvision's BasicConv2d in inference form.
class BasicConv : public InceptionLayer {
 public:
  BasicConv(int64_t in, int64_t out, int kh, int kw, int stride, int pad_h, int pad_w,
            LayerOptions opt);
  Tensor forward(const Tensor& x) const override;

 private:
  struct Conv;  // the "conv" child holding weight and bias
  std::shared_ptr<Conv> conv_;
  int stride_, pad_h_, pad_w_;
};

class InceptionFid : public Module {
 public:
  static constexpr int64_t kFeatures = 2048;
  static constexpr int64_t kInputSize = 299;

  // Parameters zero until load_state_dict (or load()) fills them.
  explicit InceptionFid(LayerOptions opt = {});
  // Reads a safetensors file written by tools/python/convert_fid_weights.py; a clear error names
  // what is missing or mismatched.
  void load(const std::string& safetensors_path);

  // images [B, 1 or 3, H, W] with values in [0, 1] -> pool3 features [B, 2048]: as pytorch-fid,
  // grayscale repeated to three channels, a bilinear resize to 299×299 (align_corners false),
  // then 2x − 1.
  Tensor features(const Tensor& images) const;
  // The network on an already prepared [B, 3, 299, 299] batch in [−1, 1] (any size ≥ 75 works).
  Tensor forward(const Tensor& x) const;

 private:
  std::vector<std::shared_ptr<InceptionLayer>> layers_;  // in forward order, pools included
  LayerOptions opt_;
};

}  // namespace s2dm
