// TrainConfig validation and JSON.
#include "diffusion/train/train_config.h"

#include <cmath>
#include <set>
#include <type_traits>

#include "engine/error.h"

namespace s2dm {

void TrainConfig::validate() const {
  model.validate();
  s2dm::validate(loss);
  // The schedule every run uses (NoiseSchedule's default): T = 1000 diffusion steps.
  constexpr int64_t kT = 1000;
  S2DM_CHECK(loss.skip < kT,
             "skip must be below the number of diffusion steps T = {}, got {}: with skip >= T no "
             "sample gets the skip term and the run would be the tau = 1 baseline", kT, loss.skip);
  static const std::set<std::string> kinds = {"fmnist", "mnist", "cifar10", "folder"};
  S2DM_CHECK(kinds.count(data.kind), "data kind '{}' is not one of fmnist, mnist, cifar10, folder",
             data.kind);
  S2DM_CHECK(data.kind != "folder" || !data.path.empty(), "data kind 'folder' needs a data path");
  S2DM_CHECK(data.crop_size >= 0 && data.crop_top >= -1 && data.crop_left >= -1,
             "crop_size must be >= 0 and crop_top/crop_left >= -1 (-1 centres the crop)");
  // Bounds far beyond any real run, so a typo fails here instead of overflowing a counter later.
  constexpr int64_t kMaxSteps = 1'000'000'000'000;
  constexpr int64_t kMaxBatch = 1'000'000;
  S2DM_CHECK(batch >= 1 && batch <= kMaxBatch, "batch must be in [1, {}], got {}", kMaxBatch, batch);
  S2DM_CHECK(steps >= 1 && steps <= kMaxSteps, "steps must be in [1, {}], got {}", kMaxSteps, steps);
  S2DM_CHECK(std::isfinite(lr) && lr > 0, "lr must be a finite number > 0, got {}", lr);
  S2DM_CHECK(std::isfinite(grad_clip) && grad_clip >= 0,
             "grad_clip must be a finite number >= 0 (0 disables), got {}", grad_clip);
  S2DM_CHECK(ema_decay >= 0 && ema_decay <= 1, "ema_decay must be in [0, 1], got {}", ema_decay);
  S2DM_CHECK(log_every >= 1 && ckpt_every >= 1 && sample_every >= 0,
             "log_every and ckpt_every must be >= 1 and sample_every >= 0");
  S2DM_CHECK(sample_count >= 1 && sample_count <= 10'000,
             "sample_count must be in [1, 10000], got {}", sample_count);
  S2DM_CHECK(sample_steps >= 1 && sample_steps <= kT,
             "sample_steps must be in [1, {}] (the diffusion steps), got {}", kT, sample_steps);
  S2DM_CHECK(sample_sampler == "ddpm" || sample_sampler == "ddim",
             "sample_sampler must be ddpm or ddim, got '{}'", sample_sampler);
  S2DM_CHECK(!out_dir.empty(), "out_dir must not be empty");
  S2DM_CHECK(dtype == "float32" || dtype == "float64", "dtype must be float32 or float64, got '{}'", dtype);
}

nlohmann::json TrainConfig::to_json() const {
  return {{"preset", preset},
          {"model", model.to_json()},
          {"data",
           {{"kind", data.kind},
            {"path", data.path},
            {"split", data.split},
            {"crop_size", data.crop_size},
            {"crop_top", data.crop_top},
            {"crop_left", data.crop_left},
            {"random_flip", data.random_flip}}},
          {"loss",
           {{"skip", loss.skip},
            {"tau", loss.tau},
            {"same_noise", loss.same_noise},
            {"sum_over_pixels", loss.sum_over_pixels}}},
          {"batch", batch},
          {"steps", steps},
          {"seed", seed},
          {"lr", lr},
          {"grad_clip", grad_clip},
          {"ema_decay", ema_decay},
          {"out_dir", out_dir},
          {"device", device},
          {"dtype", dtype},
          {"log_every", log_every},
          {"ckpt_every", ckpt_every},
          {"sample_every", sample_every},
          {"sample_count", sample_count},
          {"sample_steps", sample_steps},
          {"sample_sampler", sample_sampler}};
}

namespace {
void check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
  S2DM_CHECK(j.is_object(), "config {}: expected a JSON object", where);
  for (const auto& [key, value] : j.items())
    S2DM_CHECK(allowed.count(key), "config {}: unknown key '{}'", where.empty() ? "" : where, key);
}

// Typed reads: JSON numbers convert silently in nlohmann (3.5 -> 3, -1 -> 2^64 - 1), so integers
// must be integers and unsigned ones non-negative.
template <typename T>
void take(const nlohmann::json& j, const char* key, T& field) {
  if (!j.contains(key)) return;
  const nlohmann::json& v = j.at(key);
  if constexpr (std::is_same_v<T, bool>) {
    S2DM_CHECK(v.is_boolean(), "config: '{}' must be true or false, got {}", key, v.dump());
  } else if constexpr (std::is_integral_v<T>) {
    S2DM_CHECK(v.is_number_integer(), "config: '{}' must be an integer, got {}", key, v.dump());
    if constexpr (std::is_unsigned_v<T>)
      S2DM_CHECK(v.is_number_unsigned() || v.get<int64_t>() >= 0,
                 "config: '{}' must be a non-negative integer, got {}", key, v.dump());
  } else if constexpr (std::is_floating_point_v<T>) {
    S2DM_CHECK(v.is_number(), "config: '{}' must be a number, got {}", key, v.dump());
  } else {
    S2DM_CHECK(v.is_string(), "config: '{}' must be a string, got {}", key, v.dump());
  }
  field = v.get<T>();
}
}  // namespace

TrainConfig TrainConfig::from_json(const nlohmann::json& j, TrainConfig c) {
  try {
    check_keys(j, {"preset", "model", "data", "loss", "batch", "steps", "seed", "lr", "grad_clip",
                   "ema_decay", "out_dir", "device", "dtype", "log_every", "ckpt_every", "sample_every",
                   "sample_count", "sample_steps", "sample_sampler"}, "");
    // An explicit model block wins; the preset name is then only a label.
    if (j.contains("preset")) c.preset = j.at("preset").get<std::string>();
    if (j.contains("model")) {
      c.model = UNetConfig::from_json(j.at("model"));
    } else if (j.contains("preset")) {
      c.model = unet_preset(c.preset);
    }
    if (j.contains("data")) {
      const auto& d = j.at("data");
      check_keys(d, {"kind", "path", "split", "crop_size", "crop_top", "crop_left", "random_flip"},
                 "data");
      take(d, "kind", c.data.kind);
      take(d, "path", c.data.path);
      take(d, "split", c.data.split);
      take(d, "crop_size", c.data.crop_size);
      take(d, "crop_top", c.data.crop_top);
      take(d, "crop_left", c.data.crop_left);
      take(d, "random_flip", c.data.random_flip);
    }
    if (j.contains("loss")) {
      const auto& l = j.at("loss");
      check_keys(l, {"skip", "tau", "same_noise", "sum_over_pixels"}, "loss");
      take(l, "skip", c.loss.skip);
      take(l, "tau", c.loss.tau);
      take(l, "same_noise", c.loss.same_noise);
      take(l, "sum_over_pixels", c.loss.sum_over_pixels);
    }
    take(j, "batch", c.batch);
    take(j, "steps", c.steps);
    take(j, "seed", c.seed);
    take(j, "lr", c.lr);
    take(j, "grad_clip", c.grad_clip);
    take(j, "ema_decay", c.ema_decay);
    take(j, "out_dir", c.out_dir);
    take(j, "device", c.device);
    take(j, "dtype", c.dtype);
    take(j, "log_every", c.log_every);
    take(j, "ckpt_every", c.ckpt_every);
    take(j, "sample_every", c.sample_every);
    take(j, "sample_count", c.sample_count);
    take(j, "sample_steps", c.sample_steps);
    take(j, "sample_sampler", c.sample_sampler);
  } catch (const nlohmann::json::exception& e) {
    fail("config: {}", e.what());
  }
  c.validate();
  return c;
}

}  // namespace s2dm
