// UNet construction (names and channel bookkeeping follow the reference DDIM code) and forward.
#include "models/unet.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"

namespace s2dm {

namespace {
// A named holder module, like `nn.Module()` containers in the reference code (e.g. `temb`,
// `down.0`, `mid`) that only group children.
struct Group : Module {
  template <typename M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> m) {
    return register_module(name, std::move(m));
  }
};
}  // namespace

ResnetBlock::ResnetBlock(int64_t in_ch, int64_t out_ch, int64_t temb_ch, const UNetConfig& cfg,
                         Generator& g, LayerOptions opt)
    : dropout(cfg.dropout) {
  norm1 = register_module("norm1", std::make_shared<GroupNorm>(cfg.groups, in_ch, 1e-6, opt));
  conv1 = register_module("conv1", std::make_shared<Conv2d>(in_ch, out_ch, 3, 1, 1, g, true, opt));
  temb_proj = register_module("temb_proj", std::make_shared<Linear>(temb_ch, out_ch, g, true, opt));
  norm2 = register_module("norm2", std::make_shared<GroupNorm>(cfg.groups, out_ch, 1e-6, opt));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(out_ch, out_ch, 3, 1, 1, g, true, opt));
  if (in_ch != out_ch)
    nin_shortcut =
        register_module("nin_shortcut", std::make_shared<Conv2d>(in_ch, out_ch, 1, 1, 0, g, true, opt));
}

Tensor ResnetBlock::forward(const Tensor& x, const Tensor& temb_act, Generator& dropout_gen) const {
  Tensor h = conv1->forward(norm1->forward_silu(x));
  h = norm2->forward_silu(h, temb_proj->forward(temb_act));  // h + temb, fused into the norm
  if (is_training() && dropout > 0) h = s2dm::dropout(h, dropout, dropout_gen, true);
  h = conv2->forward(h);
  return add(nin_shortcut ? nin_shortcut->forward(x) : x, h);
}

AttnBlock::AttnBlock(int64_t ch, const UNetConfig& cfg, Generator& g, LayerOptions opt) {
  norm = register_module("norm", std::make_shared<GroupNorm>(cfg.groups, ch, 1e-6, opt));
  q = register_module("q", std::make_shared<Conv2d>(ch, ch, 1, 1, 0, g, true, opt));
  k = register_module("k", std::make_shared<Conv2d>(ch, ch, 1, 1, 0, g, true, opt));
  v = register_module("v", std::make_shared<Conv2d>(ch, ch, 1, 1, 0, g, true, opt));
  proj_out = register_module("proj_out", std::make_shared<Conv2d>(ch, ch, 1, 1, 0, g, true, opt));
}

Tensor AttnBlock::forward(const Tensor& x) const {
  const int64_t n = x.size(0), c = x.size(1), hgt = x.size(2), wid = x.size(3);
  Tensor h = norm->forward(x);
  // Attention over the H·W positions straight on the convolutions' [N, C, H·W] layout: no
  // transposes to a token layout and back.
  auto positions = [&](const std::shared_ptr<Conv2d>& conv) {
    return conv->forward(h).reshape({n, c, hgt * wid});
  };
  Tensor a = attention_channels_first(positions(q), positions(k), positions(v),
                                      1.0 / std::sqrt(static_cast<double>(c)));
  return add(x, proj_out->forward(a.reshape({n, c, hgt, wid})));
}

UNet::UNet(const UNetConfig& cfg, Generator& g, LayerOptions opt) : cfg_(cfg) {
  cfg.validate();
  const int64_t ch = cfg.ch, temb_ch = 4 * ch;
  const size_t levels = cfg.ch_mult.size();
  auto has_attn = [&](int res) {
    return std::find(cfg.attn_resolutions.begin(), cfg.attn_resolutions.end(), res) !=
           cfg.attn_resolutions.end();
  };

  auto temb = register_module("temb", std::make_shared<Group>());
  auto dense = temb->add("dense", std::make_shared<ModuleList>());
  temb0_ = dense->push_back(std::make_shared<Linear>(ch, temb_ch, g, true, opt));
  temb1_ = dense->push_back(std::make_shared<Linear>(temb_ch, temb_ch, g, true, opt));
  conv_in_ = register_module("conv_in",
                             std::make_shared<Conv2d>(cfg.in_channels, ch, 3, 1, 1, g, true, opt));

  // Down path. skip_channels records the channel count of every stored activation.
  auto down = register_module("down", std::make_shared<ModuleList>());
  std::vector<int64_t> skip_channels = {ch};
  int res = cfg.resolution;
  int64_t block_in = ch;
  for (size_t lvl = 0; lvl < levels; ++lvl) {
    auto group = down->push_back(std::make_shared<Group>());
    Level L{group->add("block", std::make_shared<ModuleList>()),
            group->add("attn", std::make_shared<ModuleList>()), nullptr};
    const int64_t block_out = ch * cfg.ch_mult[lvl];
    for (int b = 0; b < cfg.num_res_blocks; ++b) {
      L.blocks->push_back(std::make_shared<ResnetBlock>(block_in, block_out, temb_ch, cfg, g, opt));
      block_in = block_out;
      if (has_attn(res)) L.attns->push_back(std::make_shared<AttnBlock>(block_in, cfg, g, opt));
      skip_channels.push_back(block_in);
    }
    if (lvl + 1 != levels) {
      auto ds = group->add("downsample", std::make_shared<Group>());
      L.resample = ds->add("conv", std::make_shared<Conv2d>(block_in, block_in, 3, 2, 0, g, true, opt));
      skip_channels.push_back(block_in);
      res /= 2;
    }
    down_.push_back(L);
  }

  auto mid = register_module("mid", std::make_shared<Group>());
  mid_block1_ = mid->add("block_1", std::make_shared<ResnetBlock>(block_in, block_in, temb_ch, cfg, g, opt));
  mid_attn_ = mid->add("attn_1", std::make_shared<AttnBlock>(block_in, cfg, g, opt));
  mid_block2_ = mid->add("block_2", std::make_shared<ResnetBlock>(block_in, block_in, temb_ch, cfg, g, opt));

  // Up path, built from the lowest resolution up but registered as up.0 .. up.{levels-1}.
  std::vector<std::shared_ptr<Group>> up_groups(levels);
  up_.resize(levels);
  for (size_t i = levels; i-- > 0;) {
    auto group = std::make_shared<Group>();
    Level L{group->add("block", std::make_shared<ModuleList>()),
            group->add("attn", std::make_shared<ModuleList>()), nullptr};
    const int64_t block_out = ch * cfg.ch_mult[i];
    for (int b = 0; b <= cfg.num_res_blocks; ++b) {
      const int64_t skip_in = skip_channels.back();
      skip_channels.pop_back();
      L.blocks->push_back(std::make_shared<ResnetBlock>(block_in + skip_in, block_out, temb_ch, cfg, g, opt));
      block_in = block_out;
      if (has_attn(res)) L.attns->push_back(std::make_shared<AttnBlock>(block_in, cfg, g, opt));
    }
    if (i != 0) {
      auto us = group->add("upsample", std::make_shared<Group>());
      L.resample = us->add("conv", std::make_shared<Conv2d>(block_in, block_in, 3, 1, 1, g, true, opt));
      res *= 2;
    }
    up_groups[i] = group;
    up_[i] = L;
  }
  auto up = register_module("up", std::make_shared<ModuleList>());
  for (auto& grp : up_groups) up->push_back(grp);

  norm_out_ = register_module("norm_out", std::make_shared<GroupNorm>(cfg.groups, block_in, 1e-6, opt));
  conv_out_ = register_module("conv_out",
                              std::make_shared<Conv2d>(block_in, cfg.out_channels, 3, 1, 1, g, true, opt));
}

Tensor UNet::forward(const Tensor& x, const Tensor& t) const {
  S2DM_CHECK(!is_training() || cfg_.dropout == 0,
             "UNet::forward without a dropout generator needs eval mode (call train(false))");
  Generator unused;
  return forward(x, t, unused);
}

Tensor UNet::forward(const Tensor& x, const Tensor& t, Generator& dropout_gen) const {
  S2DM_CHECK(x.dim() == 4 && x.size(1) == cfg_.in_channels && x.size(2) == cfg_.resolution &&
                 x.size(3) == cfg_.resolution,
             "UNet: input {} does not match the model ([N, {}, {}, {}])", x.str(), cfg_.in_channels,
             cfg_.resolution, cfg_.resolution);
  S2DM_CHECK(t.dim() == 1 && t.size(0) == x.size(0), "UNet: timesteps {} for a batch of {}",
             t.str(), x.size(0));
  Tensor temb = temb1_->forward(silu(temb0_->forward(timestep_embedding(t.to(x.dtype()), cfg_.ch))));
  const Tensor temb_act = silu(temb);

  std::vector<Tensor> hs = {conv_in_->forward(x)};
  for (const Level& L : down_) {
    for (size_t b = 0; b < L.blocks->size(); ++b) {
      Tensor h = L.blocks->at<ResnetBlock>(b).forward(hs.back(), temb_act, dropout_gen);
      if (L.attns->size() > 0) h = L.attns->at<AttnBlock>(b).forward(h);
      hs.push_back(h);
    }
    if (L.resample) hs.push_back(L.resample->forward(pad2d(hs.back(), 0, 1, 0, 1)));
  }

  Tensor h = mid_block1_->forward(hs.back(), temb_act, dropout_gen);
  h = mid_attn_->forward(h);
  h = mid_block2_->forward(h, temb_act, dropout_gen);

  for (size_t i = up_.size(); i-- > 0;) {
    const Level& L = up_[i];
    for (size_t b = 0; b < L.blocks->size(); ++b) {
      h = L.blocks->at<ResnetBlock>(b).forward(concat({h, hs.back()}, 1), temb_act, dropout_gen);
      hs.pop_back();
      if (L.attns->size() > 0) h = L.attns->at<AttnBlock>(b).forward(h);
    }
    if (L.resample) h = L.resample->forward(upsample_nearest2x(h));
  }
  return conv_out_->forward(norm_out_->forward_silu(h));
}

}  // namespace s2dm
