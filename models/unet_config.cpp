// Presets and (de)serialisation of UNetConfig.
#include "models/unet_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>

#include "engine/error.h"

namespace s2dm {

void UNetConfig::validate() const {
  // Bounds far past any real network keep every product below in int range.
  constexpr int kMax = 1 << 16;
  S2DM_CHECK(ch > 0 && !ch_mult.empty() && num_res_blocks >= 1 && in_channels > 0 &&
                 out_channels > 0 && resolution > 0 && groups > 0,
             "UNet config: ch, ch_mult, num_res_blocks, channels, resolution and groups must be positive");
  S2DM_CHECK(ch <= kMax && num_res_blocks <= 64 && in_channels <= 64 && out_channels <= 64 &&
                 resolution <= kMax && groups <= kMax && ch_mult.size() <= 16 && attn_resolutions.size() <= 16,
             "UNet config: sizes beyond any real network (ch, resolution, groups <= {}; channels, "
             "res blocks <= 64; at most 16 levels)", kMax);
  S2DM_CHECK(dropout >= 0 && dropout < 1, "UNet config: dropout {} must be in [0, 1)", dropout);
  S2DM_CHECK(ch % 2 == 0 && ch >= 4, "UNet config: ch {} must be even and >= 4 (timestep embedding)", ch);
  for (int m : ch_mult) {
    S2DM_CHECK(m > 0 && m <= 64 && (ch * m) % groups == 0,
               "UNet config: ch {} x ch_mult {} is not divisible by {} GroupNorm groups (ch_mult in [1, 64])",
               ch, m, groups);
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

namespace {
// nlohmann converts any number to int silently (2e112 -> undefined behaviour): integers must be
// JSON integers within int range.
int int_of(const nlohmann::json& v, const char* key) {
  S2DM_CHECK(v.is_number_integer(), "UNet config: '{}' must be an integer, got {}", key, v.dump());
  const int64_t x = v.get<int64_t>();
  S2DM_CHECK(x >= INT32_MIN && x <= INT32_MAX, "UNet config: '{}' = {} is out of range", key, x);
  return static_cast<int>(x);
}

void take_int(const nlohmann::json& j, const char* key, int& field) {
  if (j.contains(key)) field = int_of(j.at(key), key);
}

void take_ints(const nlohmann::json& j, const char* key, std::vector<int>& field) {
  if (!j.contains(key)) return;
  const nlohmann::json& v = j.at(key);
  S2DM_CHECK(v.is_array(), "UNet config: '{}' must be a list of integers, got {}", key, v.dump());
  field.clear();
  for (const nlohmann::json& e : v) field.push_back(int_of(e, key));
}
}  // namespace

UNetConfig UNetConfig::from_json(const nlohmann::json& j) {
  UNetConfig c;
  S2DM_CHECK(j.is_object(), "UNet config: expected a JSON object, got {}", j.type_name());
  take_int(j, "ch", c.ch);
  take_ints(j, "ch_mult", c.ch_mult);
  take_int(j, "num_res_blocks", c.num_res_blocks);
  take_ints(j, "attn_resolutions", c.attn_resolutions);
  if (j.contains("dropout")) {
    S2DM_CHECK(j.at("dropout").is_number(), "UNet config: 'dropout' must be a number, got {}", j.at("dropout").dump());
    c.dropout = j.at("dropout").get<double>();
  }
  take_int(j, "in_channels", c.in_channels);
  take_int(j, "out_channels", c.out_channels);
  take_int(j, "resolution", c.resolution);
  take_int(j, "groups", c.groups);
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
