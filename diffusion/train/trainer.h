// The S²-DM training loop (docs/method.md §3–4): antithetic time steps, x_t from fresh noise, the
// UNet's ε̂, the S²-DM loss, Adam with gradient clipping, EMA; periodic atomic checkpoints, sample
// grids, a progress line and a JSONL metrics file.
//
// Data parallel (options.comm with several ranks): every rank draws the global batch's time steps,
// loads its own slice of the global batch and draws that slice's noise and dropout at the
// sample's global Philox offsets, so N ranks compute the step one process computes with the
// whole batch, up to the order of the gradient sum. Gradients are averaged in buckets during
// backward; clipping, Adam and the EMA then run identically on every rank. Checkpoints hold
// global state only, so a run resumes on any number of ranks.
//
// Determinism: all randomness comes from (seed, offset) counters — the data order and flips from
// the loader, time steps, noise and dropout from one Generator — and CPU reductions have a fixed
// order, so on the CPU a run of N steps and a run of N/2 steps resumed for N/2 more give
// bit-identical weights.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "diffusion/train/train_config.h"
#include "engine/data/dataset.h"
#include "engine/dist/communicator.h"
#include "engine/nn/flat_parameters.h"

namespace s2dm {

struct TrainOptions {
  std::string resume;                             // checkpoint to continue from (empty: fresh)
  // Non-zero: checkpoint and return early (between steps, or between a sample grid's model calls).
  const std::atomic<int>* stop_signal = nullptr;
  std::shared_ptr<const Dataset> dataset;         // used instead of config.data when set
  bool quiet = false;                             // no progress lines on stdout
  bool overwrite = false;  // start a fresh run in an output folder that holds another run's checkpoint
  // Data parallelism: the job's communicator (null: this process alone). config.batch is the
  // global batch; each rank trains on its slice, and only rank 0 prints and writes files.
  dist::Communicator* comm = nullptr;
  int64_t bucket_bytes = int64_t{25} << 20;  // gradient all-reduce bucket size
  int64_t check_sync = 0;  // every N steps, stop if the parameters differ across ranks (0: never)
  // Called after every optimizer step, on every rank (the tools' fault injection for tests).
  std::function<void(int64_t step, FlatParameters& params)> after_step;
};

struct TrainResult {
  int64_t step = 0;        // optimizer steps completed
  bool interrupted = false;
  bool interrupted_alone = false;  // rank 0 stopped inside a sample grid; the other ranks did not
  bool nothing_to_do = false;      // resumed at or past the requested steps: nothing was changed
  double last_loss = 0.0;
  std::string checkpoint;  // the checkpoint written last
  // Data-parallel runs: seconds the gradient collectives ran, and the part of it the training
  // thread waited for (not hidden behind backward), summed over the steps of this run.
  double collective_seconds = 0, exposed_seconds = 0;
};

// Loads the data set a config names (Fashion-MNIST from the Debian package by default).
std::shared_ptr<const Dataset> load_training_data(const DataConfig& data, const UNetConfig& model);

TrainResult train(const TrainConfig& config, const TrainOptions& options = {});

// Paths inside out_dir.
std::string checkpoint_path(const TrainConfig& config);

}  // namespace s2dm
