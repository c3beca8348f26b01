// The FID Inception-v3 (channel counts and kernel shapes as torchvision's Inception-v3 with
// pytorch-fid's FID blocks; see inception_fid.h).
#include "models/inception_fid.h"

#include <limits>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"

namespace s2dm {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor relu(const Tensor& x) { return clamp(x, 0.0, kInf); }

std::shared_ptr<BasicConv> conv(int64_t in, int64_t out, int k, LayerOptions opt, int stride = 1,
                                int pad = 0) {
  return std::make_shared<BasicConv>(in, out, k, k, stride, pad, pad, opt);
}
// 1×k (row) or k×1 (column) kernels with the "same" padding along their long side.
std::shared_ptr<BasicConv> row_conv(int64_t in, int64_t out, int k, LayerOptions opt) {
  return std::make_shared<BasicConv>(in, out, 1, k, 1, 0, k / 2, opt);
}
std::shared_ptr<BasicConv> col_conv(int64_t in, int64_t out, int k, LayerOptions opt) {
  return std::make_shared<BasicConv>(in, out, k, 1, 1, k / 2, 0, opt);
}

// The 3×3 stride-2 max pool between the stem's stages.
struct MaxPool3s2 : InceptionLayer {
  Tensor forward(const Tensor& x) const override { return max_pool2d(x, 3, 2, 0); }
};

// The 3×3 stride-1 pool of a mixed block's pool branch, padding left out of the average.
Tensor avg_pool_3x3(const Tensor& x) { return avg_pool2d(x, 3, 1, 1, /*count_include_pad=*/false); }

// Mixed_5b-d (torchvision's InceptionA, pytorch-fid's FIDInceptionA).
struct InceptionA : InceptionLayer {
  std::shared_ptr<BasicConv> b1, b5_1, b5_2, b3_1, b3_2, b3_3, pool;
  InceptionA(int64_t in, int64_t pool_features, LayerOptions o) {
    b1 = register_module("branch1x1", conv(in, 64, 1, o));
    b5_1 = register_module("branch5x5_1", conv(in, 48, 1, o));
    b5_2 = register_module("branch5x5_2", conv(48, 64, 5, o, 1, 2));
    b3_1 = register_module("branch3x3dbl_1", conv(in, 64, 1, o));
    b3_2 = register_module("branch3x3dbl_2", conv(64, 96, 3, o, 1, 1));
    b3_3 = register_module("branch3x3dbl_3", conv(96, 96, 3, o, 1, 1));
    pool = register_module("branch_pool", conv(in, pool_features, 1, o));
  }
  Tensor forward(const Tensor& x) const override {
    return concat({b1->forward(x), b5_2->forward(b5_1->forward(x)),
                   b3_3->forward(b3_2->forward(b3_1->forward(x))), pool->forward(avg_pool_3x3(x))},
                  1);
  }
};

// Mixed_6a (InceptionB): the grid reduction 35 -> 17.
struct InceptionB : InceptionLayer {
  std::shared_ptr<BasicConv> b3, d1, d2, d3;
  InceptionB(int64_t in, LayerOptions o) {
    b3 = register_module("branch3x3", conv(in, 384, 3, o, 2));
    d1 = register_module("branch3x3dbl_1", conv(in, 64, 1, o));
    d2 = register_module("branch3x3dbl_2", conv(64, 96, 3, o, 1, 1));
    d3 = register_module("branch3x3dbl_3", conv(96, 96, 3, o, 2));
  }
  Tensor forward(const Tensor& x) const override {
    return concat({b3->forward(x), d3->forward(d2->forward(d1->forward(x))), max_pool2d(x, 3, 2, 0)},
                  1);
  }
};

// Mixed_6b-e (InceptionC, FIDInceptionC): factorised 7×7 convolutions.
struct InceptionC : InceptionLayer {
  std::shared_ptr<BasicConv> b1, s1, s2, s3, d1, d2, d3, d4, d5, pool;
  InceptionC(int64_t in, int64_t c7, LayerOptions o) {
    b1 = register_module("branch1x1", conv(in, 192, 1, o));
    s1 = register_module("branch7x7_1", conv(in, c7, 1, o));
    s2 = register_module("branch7x7_2", row_conv(c7, c7, 7, o));
    s3 = register_module("branch7x7_3", col_conv(c7, 192, 7, o));
    d1 = register_module("branch7x7dbl_1", conv(in, c7, 1, o));
    d2 = register_module("branch7x7dbl_2", col_conv(c7, c7, 7, o));
    d3 = register_module("branch7x7dbl_3", row_conv(c7, c7, 7, o));
    d4 = register_module("branch7x7dbl_4", col_conv(c7, c7, 7, o));
    d5 = register_module("branch7x7dbl_5", row_conv(c7, 192, 7, o));
    pool = register_module("branch_pool", conv(in, 192, 1, o));
  }
  Tensor forward(const Tensor& x) const override {
    const Tensor s = s3->forward(s2->forward(s1->forward(x)));
    const Tensor d = d5->forward(d4->forward(d3->forward(d2->forward(d1->forward(x)))));
    return concat({b1->forward(x), s, d, pool->forward(avg_pool_3x3(x))}, 1);
  }
};

// Mixed_7a (InceptionD): the grid reduction 17 -> 8.
struct InceptionD : InceptionLayer {
  std::shared_ptr<BasicConv> a1, a2, b1, b2, b3, b4;
  InceptionD(int64_t in, LayerOptions o) {
    a1 = register_module("branch3x3_1", conv(in, 192, 1, o));
    a2 = register_module("branch3x3_2", conv(192, 320, 3, o, 2));
    b1 = register_module("branch7x7x3_1", conv(in, 192, 1, o));
    b2 = register_module("branch7x7x3_2", row_conv(192, 192, 7, o));
    b3 = register_module("branch7x7x3_3", col_conv(192, 192, 7, o));
    b4 = register_module("branch7x7x3_4", conv(192, 192, 3, o, 2));
  }
  Tensor forward(const Tensor& x) const override {
    return concat({a2->forward(a1->forward(x)),
                   b4->forward(b3->forward(b2->forward(b1->forward(x)))), max_pool2d(x, 3, 2, 0)},
                  1);
  }
};

// Mixed_7b and 7c (InceptionE; FIDInceptionE_1 pools by average without padding, FIDInceptionE_2
// by a 3×3 max).
struct InceptionE : InceptionLayer {
  std::shared_ptr<BasicConv> b1, s1, s2a, s2b, d1, d2, d3a, d3b, pool;
  bool max_pool;
  InceptionE(int64_t in, bool max_pool_branch, LayerOptions o) : max_pool(max_pool_branch) {
    b1 = register_module("branch1x1", conv(in, 320, 1, o));
    s1 = register_module("branch3x3_1", conv(in, 384, 1, o));
    s2a = register_module("branch3x3_2a", row_conv(384, 384, 3, o));
    s2b = register_module("branch3x3_2b", col_conv(384, 384, 3, o));
    d1 = register_module("branch3x3dbl_1", conv(in, 448, 1, o));
    d2 = register_module("branch3x3dbl_2", conv(448, 384, 3, o, 1, 1));
    d3a = register_module("branch3x3dbl_3a", row_conv(384, 384, 3, o));
    d3b = register_module("branch3x3dbl_3b", col_conv(384, 384, 3, o));
    pool = register_module("branch_pool", conv(in, 192, 1, o));
  }
  Tensor forward(const Tensor& x) const override {
    const Tensor s = s1->forward(x), d = d2->forward(d1->forward(x));
    const Tensor pooled = max_pool ? max_pool2d(x, 3, 1, 1) : avg_pool_3x3(x);
    return concat({b1->forward(x), s2a->forward(s), s2b->forward(s), d3a->forward(d),
                   d3b->forward(d), pool->forward(pooled)},
                  1);
  }
};

}  // namespace

struct BasicConv::Conv : Module {
  Tensor weight, bias;
  Conv(const Shape& w, LayerOptions opt) {
    weight = register_parameter("weight", Tensor::zeros(w, opt.dtype, opt.device));
    bias = register_parameter("bias", Tensor::zeros({w[0]}, opt.dtype, opt.device));
  }
};

BasicConv::BasicConv(int64_t in, int64_t out, int kh, int kw, int stride, int pad_h, int pad_w,
                     LayerOptions opt)
    : stride_(stride), pad_h_(pad_h), pad_w_(pad_w) {
  conv_ = register_module("conv", std::make_shared<Conv>(Shape{out, in, kh, kw}, opt));
}

Tensor BasicConv::forward(const Tensor& x) const {
  return relu(conv2d(x, conv_->weight, conv_->bias, stride_, pad_h_, pad_w_));
}

InceptionFid::InceptionFid(LayerOptions opt) : opt_(opt) {
  auto add = [&](const std::string& name, std::shared_ptr<InceptionLayer> layer) {
    if (!name.empty()) register_module(name, layer);
    layers_.push_back(std::move(layer));
  };
  add("Conv2d_1a_3x3", conv(3, 32, 3, opt, 2));
  add("Conv2d_2a_3x3", conv(32, 32, 3, opt));
  add("Conv2d_2b_3x3", conv(32, 64, 3, opt, 1, 1));
  add("", std::make_shared<MaxPool3s2>());
  add("Conv2d_3b_1x1", conv(64, 80, 1, opt));
  add("Conv2d_4a_3x3", conv(80, 192, 3, opt));
  add("", std::make_shared<MaxPool3s2>());
  add("Mixed_5b", std::make_shared<InceptionA>(192, 32, opt));
  add("Mixed_5c", std::make_shared<InceptionA>(256, 64, opt));
  add("Mixed_5d", std::make_shared<InceptionA>(288, 64, opt));
  add("Mixed_6a", std::make_shared<InceptionB>(288, opt));
  add("Mixed_6b", std::make_shared<InceptionC>(768, 128, opt));
  add("Mixed_6c", std::make_shared<InceptionC>(768, 160, opt));
  add("Mixed_6d", std::make_shared<InceptionC>(768, 160, opt));
  add("Mixed_6e", std::make_shared<InceptionC>(768, 192, opt));
  add("Mixed_7a", std::make_shared<InceptionD>(768, opt));
  add("Mixed_7b", std::make_shared<InceptionE>(1280, false, opt));
  add("Mixed_7c", std::make_shared<InceptionE>(2048, true, opt));
  train(false);
}

void InceptionFid::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : file.tensors) state.emplace(name, t);
  try {
    load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    fail("{} is not an FID Inception weights file for s2dm ({}). Convert pytorch-fid's "
         "pt_inception-2015-12-05-*.pth with tools/python/convert_fid_weights.py",
         path, e.what());
  }
}

Tensor InceptionFid::forward(const Tensor& x) const {
  S2DM_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= 75 && x.size(3) >= 75,
             "InceptionFid: expected a batch [B, 3, H, W] with H, W >= 75, got {}", x.str());
  NoGradGuard no_grad;
  Tensor h = x;
  for (const auto& layer : layers_) h = layer->forward(h);
  return mean(h, {2, 3});  // the global average pool: [B, 2048]
}

Tensor InceptionFid::features(const Tensor& images) const {
  S2DM_CHECK(images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3),
             "InceptionFid: expected images [B, 1 or 3, H, W] in [0, 1], got {}", images.str());
  NoGradGuard no_grad;
  Tensor x = images.to(opt_.device).to(opt_.dtype);
  if (x.size(1) == 1) x = concat({x, x, x}, 1);
  x = upsample_bilinear2d(x, kInputSize, kInputSize);
  return forward(add_scalar(mul_scalar(x, 2.0), -1.0));
}

}  // namespace s2dm
