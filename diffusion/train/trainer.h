// The S²-DM training loop (method.md §3–4): antithetic time steps, x_t from fresh noise, the UNet's
// ε̂, the S²-DM loss, Adam with gradient clipping, EMA; periodic atomic checkpoints, sample grids,
// a progress line and a JSONL metrics file.
//
// Determinism: all randomness comes from (seed, offset) counters — the data order and flips from
// the loader, time steps, noise and dropout from one Generator — and CPU reductions have a fixed
// order, so on the CPU a run of N steps and a run of N/2 steps resumed for N/2 more give
// bit-identical weights.
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "diffusion/train/train_config.h"
#include "engine/data/dataset.h"

namespace s2dm {

struct TrainOptions {
  std::string resume;                             // checkpoint to continue from (empty: fresh)
  const std::atomic<int>* stop_signal = nullptr;  // non-zero: checkpoint and return early
  std::shared_ptr<const Dataset> dataset;         // used instead of config.data when set
  bool quiet = false;                             // no progress lines on stdout
};

struct TrainResult {
  int64_t step = 0;        // optimizer steps completed
  bool interrupted = false;
  double last_loss = 0.0;
  std::string checkpoint;  // the checkpoint written last
};

// Loads the data set a config names (Fashion-MNIST from the Debian package by default).
std::shared_ptr<const Dataset> load_training_data(const DataConfig& data, const UNetConfig& model);

TrainResult train(const TrainConfig& config, const TrainOptions& options = {});

// Paths inside out_dir.
std::string checkpoint_path(const TrainConfig& config);

}  // namespace s2dm
