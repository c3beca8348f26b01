// The DDPM/DDIM UNet (docs/method.md §5) with the public checkpoints' parameter names:
// temb.dense.{0,1}, conv_in, down.<level>.block.<i>.{norm1,conv1,temb_proj,norm2,conv2,nin_shortcut},
// down.<level>.attn.<i>.{norm,q,k,v,proj_out}, down.<level>.downsample.conv, mid.{block_1,attn_1,
// block_2}, up.<level>.block.<i>, up.<level>.attn.<i>, up.<level>.upsample.conv, norm_out, conv_out.
// up.<level> is indexed by resolution level (up.0 is the full-resolution level), as in the
// reference code, although the forward pass visits the levels from the lowest resolution up.
#pragma once
#include <memory>

#include "engine/nn/layers.h"
#include "engine/nn/module.h"
#include "engine/ops/random.h"
#include "models/unet_config.h"

namespace s2dm {

class ResnetBlock : public Module {
 public:
  ResnetBlock(int64_t in_ch, int64_t out_ch, int64_t temb_ch, const UNetConfig& cfg, Generator& g,
              LayerOptions opt);
  // temb_act = silu(temb), computed once per forward and shared by every block.
  Tensor forward(const Tensor& x, const Tensor& temb_act, Generator& dropout_gen) const;

  std::shared_ptr<GroupNorm> norm1, norm2;
  std::shared_ptr<Conv2d> conv1, conv2, nin_shortcut;  // nin_shortcut only when in != out
  std::shared_ptr<Linear> temb_proj;
  double dropout;
};

class AttnBlock : public Module {
 public:
  AttnBlock(int64_t ch, const UNetConfig& cfg, Generator& g, LayerOptions opt);
  Tensor forward(const Tensor& x) const;

  std::shared_ptr<GroupNorm> norm;
  std::shared_ptr<Conv2d> q, k, v, proj_out;
};

class UNet : public Module {
 public:
  UNet(const UNetConfig& cfg, Generator& init, LayerOptions opt = {});
  // x [N, in_channels, res, res], t [N] float (fractional steps allowed) -> ε̂ with x's shape.
  // dropout_gen is used only in training mode with dropout > 0.
  Tensor forward(const Tensor& x, const Tensor& t, Generator& dropout_gen) const;
  // Evaluation-mode forward with no dropout (sampling).
  Tensor forward(const Tensor& x, const Tensor& t) const;
  const UNetConfig& config() const { return cfg_; }

 private:
  struct Level {
    std::shared_ptr<ModuleList> blocks, attns;
    std::shared_ptr<Conv2d> resample;  // downsample.conv / upsample.conv (null at the ends)
  };
  UNetConfig cfg_;
  std::shared_ptr<Linear> temb0_, temb1_;
  std::shared_ptr<Conv2d> conv_in_, conv_out_;
  std::shared_ptr<GroupNorm> norm_out_;
  std::vector<Level> down_, up_;  // both indexed by level
  std::shared_ptr<ResnetBlock> mid_block1_, mid_block2_;
  std::shared_ptr<AttnBlock> mid_attn_;
};

}  // namespace s2dm
