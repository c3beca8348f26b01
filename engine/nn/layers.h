// The basic layers: Conv2d, Linear, GroupNorm, with PyTorch's parameter names and default
// initialisation (weights and biases U(-1/√fan_in, 1/√fan_in); GroupNorm γ = 1, β = 0).
#pragma once
#include <array>

#include "engine/nn/module.h"
#include "engine/ops/random.h"

namespace s2dm {

struct LayerOptions {
  DType dtype = DType::F32;
  Device device = Device::cpu();
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int kernel, int stride, int padding,
         Generator& gen, bool bias = true, LayerOptions opt = {});
  // A kh x kw kernel with padding pad_h on H and pad_w on W, as nn.Conv2d(in, out, (kh, kw),
  // stride, (pad_h, pad_w)): e.g. Conv2d(c, c, {1, 7}, 1, {0, 3}, gen).
  Conv2d(int64_t in_channels, int64_t out_channels, std::array<int, 2> kernel, int stride,
         std::array<int, 2> padding, Generator& gen, bool bias = true, LayerOptions opt = {});
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;  // [out, in, kh, kw], [out]
  int stride, pad_h, pad_w;
};

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true,
         LayerOptions opt = {});
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;  // [out, in], [out]
};

class GroupNorm : public Module {
 public:
  GroupNorm(int groups, int64_t channels, double eps = 1e-6, LayerOptions opt = {});
  Tensor forward(const Tensor& x) const;
  // silu(norm(x)) fused, the UNet's most common pattern; channel_add [N, C] (optional) is added
  // to x per channel first, inside the same kernels (group_norm_silu).
  Tensor forward_silu(const Tensor& x, const Tensor& channel_add = Tensor()) const;
  Tensor weight, bias;  // [C], [C]
  int groups;
  double eps;
};

// U(-bound, bound) from the generator (initialisation helper).
Tensor uniform_init(const Shape& shape, double bound, Generator& gen, LayerOptions opt);

}  // namespace s2dm
