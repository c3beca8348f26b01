// UNet configuration and the named presets (docs/method.md §5).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace s2dm {

struct UNetConfig {
  int ch = 128;                       // base channels
  std::vector<int> ch_mult = {1, 2, 2, 2};
  int num_res_blocks = 2;             // per level on the down path (up path: +1)
  std::vector<int> attn_resolutions = {16};
  double dropout = 0.1;
  int in_channels = 3;
  int out_channels = 3;
  int resolution = 32;
  int groups = 32;                    // GroupNorm groups (eps 1e-6)

  // Throws s2dm::Error when the configuration cannot build a network (e.g. channels not
  // divisible by the group count, resolution not divisible by 2^(levels-1)).
  void validate() const;
  nlohmann::json to_json() const;
  static UNetConfig from_json(const nlohmann::json& j);  // missing keys keep defaults
};

// "cifar10" (35.75 M params), "celeba" (78.7 M), "fmnist" (GPU), "fmnist-small" (CPU demo).
UNetConfig unet_preset(const std::string& name);
std::vector<std::string> unet_preset_names();

}  // namespace s2dm
