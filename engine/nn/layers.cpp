// Conv2d, Linear, GroupNorm modules.
#include "engine/nn/layers.h"

#include <cmath>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/ops/conv.h"
#include "engine/ops/linalg.h"
#include "engine/ops/norm.h"

namespace s2dm {

Tensor uniform_init(const Shape& shape, double bound, Generator& gen, LayerOptions opt) {
  Tensor t = Tensor::empty(shape, opt.dtype, opt.device);
  backend_of(t).fill_uniform(t, gen.seed, gen.take(static_cast<uint64_t>(t.numel())), -bound, bound);
  return t;
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int kernel, int stride_, int padding,
               Generator& gen, bool with_bias, LayerOptions opt)
    : Conv2d(in_channels, out_channels, {kernel, kernel}, stride_, {padding, padding}, gen,
             with_bias, opt) {}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, std::array<int, 2> kernel, int stride_,
               std::array<int, 2> padding, Generator& gen, bool with_bias, LayerOptions opt)
    : stride(stride_), pad_h(padding[0]), pad_w(padding[1]) {
  S2DM_CHECK(in_channels > 0 && out_channels > 0 && kernel[0] > 0 && kernel[1] > 0,
             "Conv2d({}, {}, kernel {}x{}): sizes must be positive", in_channels, out_channels,
             kernel[0], kernel[1]);
  const int64_t fan_in = in_channels * kernel[0] * kernel[1];
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  weight = register_parameter(
      "weight", uniform_init({out_channels, in_channels, kernel[0], kernel[1]}, bound, gen, opt));
  if (with_bias) bias = register_parameter("bias", uniform_init({out_channels}, bound, gen, opt));
}

Tensor Conv2d::forward(const Tensor& x) const {
  return conv2d(x, weight, bias, stride, pad_h, pad_w);
}

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool with_bias,
               LayerOptions opt) {
  S2DM_CHECK(in_features > 0 && out_features > 0, "Linear({}, {}): sizes must be positive",
             in_features, out_features);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight = register_parameter("weight", uniform_init({out_features, in_features}, bound, gen, opt));
  if (with_bias) bias = register_parameter("bias", uniform_init({out_features}, bound, gen, opt));
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight, bias); }

GroupNorm::GroupNorm(int groups_, int64_t channels, double eps_, LayerOptions opt)
    : groups(groups_), eps(eps_) {
  S2DM_CHECK(groups > 0 && channels % groups == 0,
             "GroupNorm: {} channels cannot be split into {} groups", channels, groups);
  weight = register_parameter("weight", Tensor::ones({channels}, opt.dtype, opt.device));
  bias = register_parameter("bias", Tensor::zeros({channels}, opt.dtype, opt.device));
}

Tensor GroupNorm::forward(const Tensor& x) const { return group_norm(x, groups, weight, bias, eps); }
Tensor GroupNorm::forward_silu(const Tensor& x, const Tensor& channel_add) const {
  return group_norm_silu(x, groups, weight, bias, eps, channel_add);
}

}  // namespace s2dm
