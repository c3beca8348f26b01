// Training checkpoints: one safetensors file holding the weights ("model.<name>"), their EMA
// ("ema.<name>"), Adam's moments ("adam.exp_avg.<name>", "adam.exp_avg_sq.<name>") and, in the
// metadata, the config and everything needed to resume bit-exactly (step, Adam step, the noise
// generator's seed and offset, the data loader's epoch and position).
//
// Names after the prefix are the public DDIM state-dict names, so `weights_from` also accepts a
// plain state dict (a converted public checkpoint) and model files load in PyTorch.
#pragma once
#include <map>
#include <string>

#include "diffusion/train/train_config.h"
#include "engine/io/safetensors.h"
#include "engine/nn/flat_parameters.h"
#include "engine/optim/adam.h"

namespace s2dm {

struct TrainingState {
  int64_t step = 0;  // optimizer steps completed
  uint64_t noise_offset = 0;
  int64_t data_epoch = 0, data_position = 0;
  double last_loss = 0.0;
};

void save_checkpoint(const std::string& path, const TrainConfig& config, const TrainingState& state,
                     const FlatParameters& params, Ema& ema, Adam& adam);

struct Checkpoint {
  TrainConfig config;
  TrainingState state;
  int64_t adam_step = 0;
  SafetensorsFile file;
};

// Reads a training checkpoint; errors name the file and what is missing.
Checkpoint load_checkpoint(const std::string& path);

// The model weights of a checkpoint file: with prefix "ema." or "model." when present (which =
// "ema" or "model"), else the file's tensors as a plain state dict.
std::map<std::string, Tensor> weights_from(const SafetensorsFile& file, const std::string& which,
                                           const std::string& path);

// Restores parameters, EMA and Adam state (same model config required).
void restore_checkpoint(const Checkpoint& ckpt, FlatParameters& params, Ema& ema, Adam& adam);

}  // namespace s2dm
