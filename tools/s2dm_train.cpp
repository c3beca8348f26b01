// s2dm-train: train an S²-DM (or, with --tau 1, a plain DDPM/DDIM baseline) UNet.
//
// Settings come from defaults < --config FILE.json < flags. With --resume the run continues from a
// checkpoint with the settings saved in it; only the length, output and logging can change then.
// SIGINT/SIGTERM/SIGHUP: finish the current step (or the current model call of a sample grid),
// write a checkpoint, exit with 128 + signal (130, 143, 129).
//
// Under mpirun or srun each process is one rank of a data-parallel job (docs/distributed.md):
// --batch is the global batch, rank 0 alone prints and writes, and an error on any rank ends
// the whole job with that rank's message.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "engine/cpu/runtime_env.h"
#include "diffusion/train/checkpoint.h"
#include "diffusion/train/trainer.h"
#include "engine/backend.h"
#include "engine/dist/communicator.h"
#include "engine/error.h"

using namespace s2dm;

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }

// The job's communicator, for ending every rank when this one fails.
std::unique_ptr<dist::Communicator> g_comm;

// Test-only fault injection: S2DM_TEST_FAULT=RANK:STEP:KIND makes rank RANK, after step STEP,
// throw an error (KIND=error), kill itself with SIGKILL (kill), or nudge its parameters so the
// replicas drift apart (drift).
std::function<void(int64_t, FlatParameters&)> fault_injection(int rank) {
  const char* spec = std::getenv("S2DM_TEST_FAULT");
  if (spec == nullptr) return {};
  int fault_rank = -1;
  long long fault_step = -1;
  char kind[16] = {};
  S2DM_CHECK(std::sscanf(spec, "%d:%lld:%15s", &fault_rank, &fault_step, kind) == 3,
             "S2DM_TEST_FAULT='{}' is not RANK:STEP:KIND (KIND error, kill or drift)", spec);
  if (fault_rank != rank) return {};
  const std::string k = kind;
  S2DM_CHECK(k == "error" || k == "kill" || k == "drift", "S2DM_TEST_FAULT kind '{}' is not error, kill or drift", k);
  return [k, fault_step, rank](int64_t step, FlatParameters& params) {
    if (step != fault_step) return;
    if (k == "error") fail("injected failure on rank {} after step {} (S2DM_TEST_FAULT)", rank, step);
    if (k == "kill") std::raise(SIGKILL);
    Tensor first = params.values().slice(0, 0, 1);
    first.copy_(Tensor::full({1}, first.item() + 1e-3, first.dtype()));
  };
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream f(path);
  S2DM_CHECK(f.good(), "cannot open config file {}", path);
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    fail("config file {} is not valid JSON: {}", path, e.what());
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Train an S²-DM UNet (method: skip-step loss L = τ·L0 + (1−τ)·Lskip)."};
  app.option_defaults()->always_capture_default();
  std::string config_file, resume;
  bool overwrite = false;
  nlohmann::json over = nlohmann::json::object();
  nlohmann::json data = nlohmann::json::object();
  nlohmann::json loss = nlohmann::json::object();
  // Every flag writes into the JSON override layer only when given.
  auto str_opt = [&](const std::string& flag, nlohmann::json& dst, const std::string& key,
                     const std::string& help) {
    return app.add_option_function<std::string>(flag, [&dst, key](const std::string& v) { dst[key] = v; }, help);
  };
  auto int_opt = [&](const std::string& flag, nlohmann::json& dst, const std::string& key,
                     const std::string& help) {
    return app.add_option_function<int64_t>(flag, [&dst, key](int64_t v) { dst[key] = v; }, help);
  };
  auto num_opt = [&](const std::string& flag, nlohmann::json& dst, const std::string& key,
                     const std::string& help) {
    return app.add_option_function<double>(flag, [&dst, key](double v) { dst[key] = v; }, help);
  };
  app.add_option("--config", config_file, "JSON config file (flags override it)")->check(CLI::ExistingFile);
  app.add_option("--resume", resume, "continue from this checkpoint")->check(CLI::ExistingFile);
  app.add_flag("--overwrite", overwrite, "start a new run in an --out that holds another run's checkpoint");
  str_opt("--preset", over, "preset", "model preset: fmnist-small (CPU demo), fmnist, cifar10, celeba [fmnist-small]");
  str_opt("--data", data, "kind", "data set: fmnist, mnist, cifar10, folder [fmnist]");
  str_opt("--data-path", data, "path", "data directory [fmnist: /usr/share/datasets/fashion-mnist]");
  str_opt("--split", data, "split", "data split: train, t10k/test [train]");
  int_opt("--crop-size", data, "crop_size", "folder: square crop before resizing, 0 = none [0]");
  int_opt("--crop-top", data, "crop_top", "folder: crop top edge, -1 = centred [-1]");
  int_opt("--crop-left", data, "crop_left", "folder: crop left edge, -1 = centred [-1]");
  app.add_flag_function("--flip,!--no-flip", [&](int64_t n) { data["random_flip"] = n > 0; },
                        "random horizontal flips [off]");
  int_opt("--batch", over, "batch", "batch size [64]");
  int_opt("--steps", over, "steps", "optimizer steps to train to [2000]");
  int_opt("--seed", over, "seed", "random seed [0]");
  num_opt("--lr", over, "lr", "Adam learning rate [2e-4]");
  num_opt("--grad-clip", over, "grad_clip", "gradient-norm clip, 0 = off [1.0]");
  num_opt("--ema-decay", over, "ema_decay", "EMA decay [0.9999]");
  int_opt("--skip", loss, "skip", "S²-DM jump length (S²-DM^k: skip = k−1) [9]");
  num_opt("--tau", loss, "tau", "weight of L0; 1 = baseline without the skip term [0.99]");
  app.add_flag_function("--same-noise", [&](int64_t) { loss["same_noise"] = true; },
                        "use ε2 = ε1 in the skip term instead of fresh noise");
  app.add_flag_function("--sum-loss", [&](int64_t) { loss["sum_over_pixels"] = true; },
                        "per-image SUM over pixels instead of MEAN (the DDIM code's reduction)");
  str_opt("--out", over, "out_dir", "output directory [out/train]");
  str_opt("--device", over, "device", "cpu, cuda or cuda:N; under mpirun, cuda = the local rank's GPU [cpu]");
  str_opt("--dtype", over, "dtype", "float32, or float64 for exact comparisons on the CPU [float32]");
  std::string comm_kind = "auto";
  double bucket_mb = 25;
  int64_t check_sync = 0;
  app.add_option("--comm", comm_kind, "data-parallel communicator: auto (nccl on GPUs, mpi on the CPU), "
                 "nccl, mpi (host-staged on GPUs), local [auto]")
      ->check(CLI::IsMember({"auto", "nccl", "mpi", "local"}));
  app.add_option("--bucket-mb", bucket_mb, "gradient all-reduce bucket size in MB [25]")
      ->check(CLI::Range(0.001, 1e5));
  app.add_option("--check-sync", check_sync, "every N steps, stop if the ranks' parameters differ, 0 = never [0]")
      ->check(CLI::NonNegativeNumber);
  app.add_flag_function("--no-tf32", [](int64_t) { set_tf32_enabled(false); },
                        "full float32 matrix products and convolutions on the GPU instead of TF32");
  int_opt("--log-every", over, "log_every", "progress line every N steps [10]");
  int_opt("--ckpt-every", over, "ckpt_every", "checkpoint every N steps [500]");
  int_opt("--sample-every", over, "sample_every", "sample grid every N steps, 0 = at the end [500]");
  int_opt("--sample-count", over, "sample_count", "images in each sample grid [16]");
  int_opt("--sample-steps", over, "sample_steps", "sampler steps for the sample grids [100]");
  str_opt("--sample-sampler", over, "sample_sampler", "ddpm (x0 clipped) or ddim for the sample grids [ddpm]");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!data.empty()) over["data"] = data;
  if (!loss.empty()) over["loss"] = loss;

  TrainConfig cfg;
  if (!resume.empty()) {
    cfg = load_checkpoint(resume).config;
    for (const auto& [key, value] : over.items()) {
      static const std::set<std::string> changeable = {"steps", "out_dir", "device", "log_every",
                                                       "ckpt_every", "sample_every", "sample_count",
                                                       "sample_steps", "sample_sampler"};
      S2DM_CHECK(changeable.count(key), "--resume continues with the checkpoint's settings; '{}' cannot "
                 "change (only steps, out, device and the logging/checkpoint/sample intervals can)", key);
    }
    S2DM_CHECK(config_file.empty(), "--config cannot be combined with --resume (the checkpoint holds the config)");
  } else if (!config_file.empty()) {
    cfg = TrainConfig::from_json(read_json_file(config_file));
  }
  cfg = TrainConfig::from_json(over, cfg);

  const dist::LaunchInfo launch = dist::detect_launch();
  g_comm = dist::make_communicator(comm_kind, dist::device_for_rank(cfg.device, launch), launch);

  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
  TrainOptions opt;
  opt.resume = resume;
  opt.overwrite = overwrite;
  opt.stop_signal = &g_signal;
  opt.comm = g_comm.get();
  opt.bucket_bytes = static_cast<int64_t>(bucket_mb * 1e6);
  opt.check_sync = check_sync;
  opt.after_step = fault_injection(g_comm->rank());
  const TrainResult r = train(cfg, opt);
  const bool lead = g_comm->rank() == 0;
  const int stop_code = 128 + (g_signal.load() != 0 ? g_signal.load() : SIGTERM);
  if (r.interrupted_alone) g_comm->abort(stop_code);  // the other ranks wait in a collective
  if (r.nothing_to_do) {
    g_comm.reset();
    if (lead)
      std::printf("nothing to do: %s is at step %lld and --steps is %lld; give a larger --steps to "
                  "train on (nothing was changed)\n", resume.c_str(), static_cast<long long>(r.step),
                  static_cast<long long>(cfg.steps));
    return 0;
  }
  g_comm.reset();  // every rank got here: leave MPI in order
  if (r.interrupted) return stop_code;
  if (lead)
    std::printf("done: %lld steps, final loss %.5f, checkpoint %s\n", static_cast<long long>(r.step),
                r.last_loss, r.checkpoint.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    if (g_comm && g_comm->world_size() > 1) {
      std::fprintf(stderr, "s2dm-train: error on rank %d of %d: %s\n", g_comm->rank(), g_comm->world_size(), e.what());
      g_comm->abort(1);  // ends every rank: none is left waiting in a collective
    }
    std::fprintf(stderr, "s2dm-train: error: %s\n", e.what());
    return 1;
  }
}
