// Whole training-step throughput on the CPU: one S²-DM step (antithetic t, q_sample, UNet forward,
// loss, backward, gradient norm + clip, Adam, EMA) for the fmnist-small preset (at the main job's
// batch 32 and at 64) and the CIFAR10 UNet, side by side with the same model and loss in PyTorch CPU (benchmarks/torch_train_step.py,
// Debian's python3-torch) at the same thread count, measured in the same run.
//
//   bench_train_step [--threads T] [--runs R] [--warmup W] [--repeat K] [--no-torch] [--only PRESET]
//                    [--profile STEPS]   (then each op's share of the step: engine/op_profile.h)
//                    [--scaling]         (T threads against one thread, both sides)
//
// --repeat K alternates the two sides K times and keeps each side's best median, so a busy
// machine penalises neither side more than the other. --scaling alternates one thread and T
// threads the same way, so the ratio is not skewed by a VM whose speed drifts between runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <omp.h>
#include <string>
#include <vector>

#include "engine/cpu/runtime_env.h"
#include "benchmarks/python_oracle.h"
#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "engine/cpu/cpu_info.h"
#include "engine/error.h"
#include "engine/nn/flat_parameters.h"
#include "engine/op_profile.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "models/unet.h"

extern "C" void openblas_set_num_threads(int);

using namespace s2dm;

namespace {

struct Case {
  std::string preset;
  int64_t batch;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double time_ours(const Case& c, int runs, int warmup, int profile_steps) {
  Generator init(0), noise(1);
  UNetConfig cfg = unet_preset(c.preset);
  UNet model(cfg, init);
  FlatParameters params(model);
  Adam adam(params, AdamConfig{2e-4});
  Ema ema(params, 0.9999);
  NoiseSchedule schedule;
  Tensor x0 = add_scalar(mul_scalar(rand({c.batch, cfg.in_channels, cfg.resolution, cfg.resolution}, noise), 2.0), -1.0);
  auto step = [&]() {
    const auto t = antithetic_timesteps(c.batch, schedule.num_steps(), noise);
    Tensor e1 = randn(x0.shape(), noise), e2 = randn(x0.shape(), noise);
    // As the trainer: one coefficient table, clipping and the EMA in the fused update.
    const StepCoefficients k = step_coefficients(schedule, t, {}, DType::F32, Device::cpu());
    Tensor out = model.forward(q_sample(x0, e1, k.sqrt_ab, k.sqrt_one_minus_ab), k.t, noise);
    S2dmLoss loss = s2dm_loss(out, e1, e2, k);
    params.zero_grad();
    loss.loss.backward();
    adam.step(params.grad_sq(), 1.0, ema);
  };
  for (int i = 0; i < warmup; ++i) step();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (profile_steps > 0) {
    clear_op_profile();
    enable_op_profile();
    for (int i = 0; i < profile_steps; ++i) step();
    disable_op_profile();
    std::printf("%s %lld: %s", c.preset.c_str(), static_cast<long long>(c.batch),
                format_op_profile(profile_steps, median(times)).c_str());
  }
  return median(times);
}

// Seconds per step from the PyTorch script, or a negative value when it is unavailable.
double time_torch(const Case& c, int threads, int runs, int warmup) {
  const std::string script = std::string(S2DM_SOURCE_DIR) + "/benchmarks/torch_train_step.py";
  const std::string cmd = fmt::format("{} {} --threads {} --preset {} --batch {} --runs {} --warmup {} 2>&1",
                                      bench::python_interpreter(), script, threads, c.preset, c.batch, runs, warmup);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  char line[512];
  double step = -1;
  while (std::fgets(line, sizeof line, pipe)) {
    double v;
    if (std::sscanf(line, "step %lf", &v) == 1) step = v;
  }
  pclose(pipe);
  return step;
}

void set_threads(int threads) {
  omp_set_num_threads(threads);  // also oneDNN's, which runs on OpenMP
  openblas_set_num_threads(threads);
}

// Best-of-`repeat` seconds per step at 1 and at `threads` threads, alternating, for both sides.
void print_scaling(const Case& c, int threads, int runs, int warmup, int repeat, bool torch) {
  double ours1 = 1e30, oursT = 1e30, ref1 = torch ? 1e30 : -1, refT = torch ? 1e30 : -1;
  for (int k = 0; k < repeat; ++k) {
    set_threads(1);
    ours1 = std::min(ours1, time_ours(c, runs, warmup, 0));
    set_threads(threads);
    oursT = std::min(oursT, time_ours(c, runs, warmup, 0));
    if (torch) {
      ref1 = std::min(ref1, time_torch(c, 1, runs, warmup));
      refT = std::min(refT, time_torch(c, threads, runs, warmup));
    }
  }
  const double b = static_cast<double>(c.batch);
  std::printf("%-14s %6lld %10.1f %10.1f %8.2f", c.preset.c_str(), static_cast<long long>(c.batch),
              b / ours1, b / oursT, ours1 / oursT);
  if (ref1 > 0 && refT > 0) std::printf(" %10.1f %10.1f %8.2f\n", b / ref1, b / refT, ref1 / refT);
  else std::printf(" %10s %10s %8s\n", "n/a", "n/a", "n/a");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    int threads = omp_get_max_threads(), runs = 5, warmup = 2, repeat = 1, profile = 0;
    bool torch = true, scaling = false;
    std::string only;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() {
        S2DM_CHECK(i + 1 < argc, "{} needs a value", a);
        return std::stoi(argv[++i]);
      };
      if (a == "--threads") threads = value();
      else if (a == "--runs") runs = value();
      else if (a == "--warmup") warmup = value();
      else if (a == "--repeat") repeat = value();
      else if (a == "--profile") profile = value();
      else if (a == "--no-torch") torch = false;
      else if (a == "--scaling") scaling = true;
      else if (a == "--only") only = argv[++i < argc ? i : i - 1];
      else fail("unknown argument '{}' (use --threads T --runs R --warmup W --repeat K --no-torch --only PRESET --profile STEPS --scaling)", a);
    }
    S2DM_CHECK(threads >= 1, "--threads must be at least 1, got {}", threads);
    set_threads(threads);
    std::printf("S²-DM training step, CPU float32, %d threads, median of %d after %d warm-up, best of %d\n",
                threads, runs, warmup, repeat);
    std::printf("machine: %s; GOMP_SPINCOUNT %s\n", describe_cpu_setup().c_str(),
                std::getenv("GOMP_SPINCOUNT") ? std::getenv("GOMP_SPINCOUNT") : "(libgomp default)");
    const Case cases[] = {{"fmnist-small", 32}, {"fmnist-small", 64}, {"cifar10", 4}};
    if (scaling) {
      std::printf("%-14s %6s %10s %10s %8s %10s %10s %8s   (img/s; scaling = %d threads / 1 thread)\n",
                  "model", "batch", "s2dm 1t", fmt::format("s2dm {}t", threads).c_str(), "scaling", "torch 1t",
                  fmt::format("torch {}t", threads).c_str(), "scaling", threads);
      for (const Case& c : cases)
        if (only.empty() || c.preset == only) print_scaling(c, threads, runs, warmup, repeat, torch);
      return 0;
    }
    std::printf("%-14s %6s %12s %12s %12s %8s\n", "model", "batch", "s2dm img/s", "torch img/s",
                "s2dm ms/step", "ratio");
    for (const Case& c : cases) {
      if (!only.empty() && c.preset != only) continue;
      double ours = 1e30, ref = torch ? 1e30 : -1;
      for (int k = 0; k < repeat; ++k) {
        ours = std::min(ours, time_ours(c, runs, warmup, k == 0 ? profile : 0));
        if (torch) ref = std::min(ref, time_torch(c, threads, runs, warmup));
      }
      const double ours_ips = static_cast<double>(c.batch) / ours;
      if (ref > 0) {
        const double ref_ips = static_cast<double>(c.batch) / ref;
        std::printf("%-14s %6lld %12.1f %12.1f %12.1f %8.2f\n", c.preset.c_str(),
                    static_cast<long long>(c.batch), ours_ips, ref_ips, ours * 1e3, ours_ips / ref_ips);
      } else {
        std::printf("%-14s %6lld %12.1f %12s %12.1f %8s\n", c.preset.c_str(),
                    static_cast<long long>(c.batch), ours_ips, "n/a", ours * 1e3, "n/a");
      }
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_step: error: %s\n", e.what());
    return 1;
  }
}
