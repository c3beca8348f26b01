// Presets and (de)serialisation of UNetConfig.
#include "models/unet_config.h"

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace s2dm {

void UNetConfig::validate() const {
  S2DM_CHECK(ch > 0 && !ch_mult.empty() && num_res_blocks >= 1 && in_channels > 0 &&
                 out_channels > 0 && resolution > 0 && groups > 0,
             "UNet config: ch, ch_mult, num_res_blocks, channels, resolution and groups must be positive");
  S2DM_CHECK(dropout >= 0 && dropout < 1, "UNet config: dropout {} must be in [0, 1)", dropout);
  S2DM_CHECK(ch % 2 == 0 && ch >= 4, "UNet config: ch {} must be even and >= 4 (timestep embedding)", ch);
  for (int m : ch_mult) {
    S2DM_CHECK(m > 0 && (ch * m) % groups == 0,
               "UNet config: ch {} x ch_mult {} is not divisible by {} GroupNorm groups", ch, m, groups);
  }
  const int down = 1 << (ch_mult.size() - 1);
  S2DM_CHECK(resolution % down == 0,
             "UNet config: resolution {} is not divisible by 2^{} (one halving per extra level)",
             resolution, ch_mult.size() - 1);
}

nlohmann::json UNetConfig::to_json() const {
  return {{"ch", ch},
          {"ch_mult", ch_mult},
          {"num_res_blocks", num_res_blocks},
          {"attn_resolutions", attn_resolutions},
          {"dropout", dropout},
          {"in_channels", in_channels},
          {"out_channels", out_channels},
          {"resolution", resolution},
          {"groups", groups}};
}

UNetConfig UNetConfig::from_json(const nlohmann::json& j) {
  UNetConfig c;
  try {
    c.ch = j.value("ch", c.ch);
    c.ch_mult = j.value("ch_mult", c.ch_mult);
    c.num_res_blocks = j.value("num_res_blocks", c.num_res_blocks);
    c.attn_resolutions = j.value("attn_resolutions", c.attn_resolutions);
    c.dropout = j.value("dropout", c.dropout);
    c.in_channels = j.value("in_channels", c.in_channels);
    c.out_channels = j.value("out_channels", c.out_channels);
    c.resolution = j.value("resolution", c.resolution);
    c.groups = j.value("groups", c.groups);
  } catch (const nlohmann::json::exception& e) {
    fail("UNet config: {}", e.what());
  }
  c.validate();
  return c;
}

UNetConfig unet_preset(const std::string& name) {
  UNetConfig c;
  if (name == "cifar10") return c;
  if (name == "celeba") {
    c.ch_mult = {1, 2, 2, 2, 4};
    c.resolution = 64;
    return c;
  }
  if (name == "fmnist") {
    c.ch = 64;
    c.ch_mult = {1, 2, 2};
    c.attn_resolutions = {16};
    c.in_channels = c.out_channels = 1;
    return c;
  }
  if (name == "fmnist-small") {
    c.ch = 32;
    c.ch_mult = {1, 2, 2};
    c.num_res_blocks = 1;
    c.attn_resolutions = {8};
    c.dropout = 0.0;
    c.in_channels = c.out_channels = 1;
    return c;
  }
  std::string names;
  for (const auto& n : unet_preset_names()) names += (names.empty() ? "" : ", ") + n;
  fail("unknown model preset '{}'; choose one of: {}", name, names);
}

std::vector<std::string> unet_preset_names() { return {"cifar10", "celeba", "fmnist", "fmnist-small"}; }

}  // namespace s2dm
