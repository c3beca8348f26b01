// The UNet: parameter names and counts of the presets, shapes, configuration errors.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/ops.h"
#include "models/unet.h"
#include "models/unet_flops.h"

using namespace s2dm;

TEST_CASE("UNet presets have the published parameter counts", "[unet]") {
  Generator g(0);
  // The DDPM/DDIM CIFAR10 model: 35.75 M parameters (35,746,307 in the public checkpoint).
  UNet cifar(unet_preset("cifar10"), g);
  CHECK(cifar.num_parameters() == 35746307);
  UNet celeba(unet_preset("celeba"), g);
  CHECK(celeba.num_parameters() / 100000 == 787);  // 78.7 M
  CHECK_THROWS_WITH(unet_preset("imagenet"), Catch::Contains("unknown model preset 'imagenet'"));
}

TEST_CASE("UNet parameter names equal the public DDIM checkpoint names", "[unet]") {
  Generator g(0);
  UNet net(unet_preset("cifar10"), g);
  const auto sd = net.state_dict();
  for (const char* name :
       {"temb.dense.0.weight", "temb.dense.1.bias", "conv_in.weight", "down.0.block.1.norm1.weight",
        "down.1.attn.0.q.weight", "down.1.attn.1.proj_out.bias", "down.0.downsample.conv.weight",
        "down.1.block.0.nin_shortcut.weight", "mid.block_1.temb_proj.weight", "mid.attn_1.k.bias",
        "mid.block_2.conv2.weight", "up.3.block.2.conv1.weight", "up.1.attn.2.norm.weight",
        "up.0.block.0.nin_shortcut.weight", "up.1.upsample.conv.weight", "norm_out.weight",
        "conv_out.bias"}) {
    INFO(name);
    CHECK(sd.count(name) == 1);
  }
  CHECK(sd.count("down.3.downsample.conv.weight") == 0);  // no downsample after the last level
  CHECK(sd.count("up.0.upsample.conv.weight") == 0);
  CHECK(sd.at("up.3.block.2.nin_shortcut.weight").shape() == Shape{256, 512, 1, 1});
  CHECK(sd.at("up.1.block.2.nin_shortcut.weight").shape() == Shape{256, 384, 1, 1});
  CHECK(sd.at("up.0.block.2.nin_shortcut.weight").shape() == Shape{128, 256, 1, 1});
  CHECK(sd.at("conv_in.weight").shape() == Shape{128, 3, 3, 3});
  CHECK(sd.at("temb.dense.0.weight").shape() == Shape{512, 128});
  // temb 4 + conv_in 2 + down 108 (blocks 10 tensors, +2 with nin_shortcut; attention 10;
  // 3 downsamples) + mid 30 + up 180 (12 blocks with shortcuts, 3 attention, 3 upsamples) + out 4.
  CHECK(sd.size() == 328);
}

TEST_CASE("UNet forward keeps the input shape, bad inputs are rejected", "[unet]") {
  Generator g(1), drop(2);
  UNetConfig cfg = unet_preset("fmnist-small");
  UNet net(cfg, g);
  Tensor x = randn({2, 1, 32, 32}, g);
  Tensor t = Tensor::from_vector(std::vector<float>{3, 999}, {2});
  Tensor y = net.forward(x, t, drop);
  CHECK(y.shape() == x.shape());
  CHECK_THROWS_WITH(net.forward(randn({2, 3, 32, 32}, g), t, drop), Catch::Contains("does not match the model"));
  CHECK_THROWS_AS(net.forward(x, Tensor::zeros({3}), drop), Error);

  UNetConfig bad = cfg;
  bad.ch = 24;  // not divisible by 32 groups
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("GroupNorm groups"));
  bad = cfg;
  bad.resolution = 30;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("not divisible"));
  const UNetConfig round = UNetConfig::from_json(cfg.to_json());
  CHECK(round.to_json() == cfg.to_json());
  CHECK_THROWS_AS(UNetConfig::from_json(nlohmann::json{{"ch", "wide"}}), Error);
}

TEST_CASE("unet: the analytic FLOP count walks the network's structure", "[unet]") {
  // One level with attention: temb 2560, conv_in 2304, down block 37376 + attention 16384,
  // mid 2·37376 + 16384, two up blocks on 16 → 8 channels (with 1x1 shortcut) 2·(59904 + 16384),
  // conv_out 2304 — multiply-adds of every product, counted twice.
  UNetConfig c;
  c.ch = 8;
  c.ch_mult = {1};
  c.num_res_blocks = 1;
  c.attn_resolutions = {4};
  c.resolution = 4;
  c.in_channels = c.out_channels = 1;
  c.groups = 4;
  CHECK(unet_forward_flops(c, 1) == 304640.0);
  CHECK(unet_forward_flops(c, 3) == 3 * 304640.0);
  CHECK(unet_train_step_flops(c, 2) == 6 * 304640.0);
  // The CIFAR-10 UNet: 12.4 GFLOP (6.2 G multiply-adds) per image forward, the size usually
  // quoted for the DDPM CIFAR-10 network.
  const double cifar = unet_forward_flops(unet_preset("cifar10"), 1);
  CHECK(cifar > 1.22e10);
  CHECK(cifar < 1.26e10);
}
