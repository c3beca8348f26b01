// Everything a training run is defined by. Saved as JSON in every checkpoint's metadata, so a run
// resumes with exactly the settings it started with.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "diffusion/s2dm_loss.h"
#include "models/unet_config.h"

namespace s2dm {

struct DataConfig {
  std::string kind = "fmnist";  // fmnist | mnist | cifar10 | folder
  std::string path;             // directory; empty = the default for the kind
  std::string split = "train";  // fmnist/mnist: train | t10k; cifar10: train | test
  int64_t crop_size = 0;        // folder: square crop before resizing (0 = none)
  int64_t crop_top = -1;        // its corner; -1 centres it (the DDIM CelebA crop is 128 at 57, 25)
  int64_t crop_left = -1;
  bool random_flip = false;     // horizontal flips (the method uses them for CIFAR10 and CelebA)
};

struct TrainConfig {
  std::string preset = "fmnist-small";
  UNetConfig model = unet_preset("fmnist-small");
  DataConfig data;
  S2dmLossOptions loss;
  int64_t batch = 64;
  int64_t steps = 2000;
  uint64_t seed = 0;
  double lr = 2e-4;
  double grad_clip = 1.0;  // max gradient norm; 0 disables clipping
  double ema_decay = 0.9999;
  std::string out_dir = "out/train";
  std::string device = "cpu";  // cpu | cuda | cuda:N
  // Parameters and activations: float32, or float64 for exact comparisons (tests, CPU only).
  std::string dtype = "float32";
  int64_t log_every = 10;
  int64_t ckpt_every = 500;
  int64_t sample_every = 500;  // 0 = only at the end
  int64_t sample_count = 16;
  int64_t sample_steps = 100;  // sampler steps for the periodic grids
  // ddpm (x0̂ clipped: robust early in training) or ddim (η = 0) for the periodic grids
  std::string sample_sampler = "ddpm";

  void validate() const;
  nlohmann::json to_json() const;
  // Overrides fields of `base` present in j; unknown keys are errors (typos must not be silent).
  static TrainConfig from_json(const nlohmann::json& j, TrainConfig base);
  static TrainConfig from_json(const nlohmann::json& j) { return from_json(j, TrainConfig()); }
};

}  // namespace s2dm
