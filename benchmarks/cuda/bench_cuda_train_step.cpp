// The CIFAR-10 UNet training step on cuda:0 (float32 with TF32 products unless --no-tf32): one
// S²-DM step as the trainer runs it (antithetic t, q_sample, forward with dropout, loss, backward,
// gradient norm + clip, Adam, EMA), reported as img/s, ms/step and MFU (analytic FLOPs of
// models/unet_flops.h over the card's dense TF32 peak), beside PyTorch eager on the same GPU in
// the same run (benchmarks/torch_train_step.py --device cuda) when a CUDA-enabled torch exists.
//
//   bench_cuda_train_step [--batch B] [--runs R] [--warmup W] [--no-tf32] [--peak-tflops P]
//                         [--profile STEPS]   (then each op's share of the step, synchronised)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/op_profile.h"
#include "benchmarks/python_oracle.h"

#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/device_runtime.h"
#include "engine/error.h"
#include "engine/nn/flat_parameters.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "models/unet.h"
#include "models/unet_flops.h"

using namespace s2dm;

namespace {

// Dense TF32 tensor-core peak from the device name; 0 when unknown (pass --peak-tflops).
double peak_tf32_tflops(const std::string& name) {
  if (name.find("H100 PCIe") != std::string::npos) return 378.0;
  if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos)
    return 494.7;
  if (name.find("A100") != std::string::npos) return 156.0;
  return 0.0;
}

double time_ours(int64_t batch, int runs, int warmup, int profile_steps) {
  const Device dev = Device::cuda(0);
  Generator init(0), noise(1);
  const UNetConfig cfg = unet_preset("cifar10");
  UNet model(cfg, init, LayerOptions{DType::F32, dev});
  FlatParameters params(model);
  Adam adam(params, AdamConfig{2e-4});
  Ema ema(params, 0.9999);
  NoiseSchedule schedule;
  const Tensor x0 =
      add_scalar(mul_scalar(rand({batch, cfg.in_channels, cfg.resolution, cfg.resolution}, noise,
                                 DType::F32, dev),
                            2.0),
                 -1.0);
  model.train(true);
  auto step = [&]() {
    const auto t = antithetic_timesteps(batch, schedule.num_steps(), noise);
    Tensor e1 = randn(x0.shape(), noise, DType::F32, dev);
    Tensor e2 = randn(x0.shape(), noise, DType::F32, dev);
    // As the trainer: one coefficient upload, clipping and the EMA in the fused update, no read.
    const StepCoefficients k = step_coefficients(schedule, t, {}, DType::F32, dev);
    Tensor out = model.forward(q_sample(x0, e1, k.sqrt_ab, k.sqrt_one_minus_ab), k.t, noise);
    S2dmLoss loss = s2dm_loss(out, e1, e2, k);
    params.zero_grad();
    loss.loss.backward();
    adam.step(params.grad_sq(), 1.0, ema);
  };
  for (int i = 0; i < warmup; ++i) step();
  cuda::synchronize(0);
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    cuda::synchronize(0);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  const auto stats = cuda::device_allocator(0).stats();
  fmt::print("s2dm peak device memory {:.2f} GiB\n", static_cast<double>(stats.peak_bytes_in_use) / (1 << 30));
  if (profile_steps > 0) {
    clear_op_profile();
    enable_op_profile();
    for (int i = 0; i < profile_steps; ++i) step();
    cuda::synchronize(0);
    disable_op_profile();
    fmt::print("{}", format_op_profile(profile_steps, times[times.size() / 2]));
  }
  return times[times.size() / 2];
}

// Seconds per step of the PyTorch script on the GPU, or a negative value with the reason printed.
double time_torch(int64_t batch, int runs, int warmup, bool tf32) {
  const std::string cmd = fmt::format(
      "{} {}/benchmarks/torch_train_step.py --device cuda --threads 1 --preset "
      "cifar10 --batch {} --runs {} --warmup {}{} 2>&1",
      bench::python_interpreter(), S2DM_SOURCE_DIR, batch, runs, warmup, tf32 ? "" : " --no-tf32");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  char line[512];
  double step = -1;
  while (std::fgets(line, sizeof line, pipe)) {
    double v;
    if (std::sscanf(line, "step %lf", &v) == 1) step = v;
    else fmt::print("  torch: {}", line);
  }
  pclose(pipe);
  return step;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int64_t batch = 128;
    int runs = 20, warmup = 3;
    double peak = 0;
    bool tf32 = true;
    int profile = 0;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--no-tf32") {
        tf32 = false;
        continue;
      }
      S2DM_CHECK(i + 1 < argc, "{} needs a value", a);
      const std::string v = argv[++i];
      if (a == "--batch") batch = std::stoll(v);
      else if (a == "--runs") runs = std::stoi(v);
      else if (a == "--warmup") warmup = std::stoi(v);
      else if (a == "--peak-tflops") peak = std::stod(v);
      else if (a == "--profile") profile = std::stoi(v);
      else fail("unknown argument '{}' (use --batch B --runs R --warmup W --no-tf32 "
                "--peak-tflops P --profile STEPS)", a);
    }
    set_tf32_enabled(tf32);
    backend_for(Device::cuda(0));  // a clear error when there is no device
    const std::string name = cuda::device_description(0);
    if (peak <= 0) peak = peak_tf32_tflops(name);
    const double flops = unet_train_step_flops(unet_preset("cifar10"), batch);
    fmt::print("{}\nCIFAR-10 UNet training step, batch {}, {}, median of {} after {} warm-up; "
               "{:.1f} GFLOP per step (analytic, 3x forward)\n",
               name, batch, tf32 ? "float32 with TF32 products" : "float32", runs, warmup,
               flops * 1e-9);
    const double ours = time_ours(batch, runs, warmup, profile);
    const double ref = time_torch(batch, runs, warmup, tf32);
    const auto mfu = [&](double t) {
      return peak > 0 ? fmt::format("{:.1f}%", 100.0 * flops / t / (peak * 1e12)) : "n/a";
    };
    fmt::print("{:<8} {:>10} {:>10} {:>8}\n", "", "img/s", "ms/step", "MFU");
    fmt::print("{:<8} {:10.1f} {:10.2f} {:>8}\n", "s2dm", batch / ours, ours * 1e3, mfu(ours));
    if (ref > 0) {
      fmt::print("{:<8} {:10.1f} {:10.2f} {:>8}\n", "pytorch", batch / ref, ref * 1e3, mfu(ref));
      fmt::print("ratio s2dm/pytorch img/s: {:.2f}\n", ref / ours);
    } else {
      fmt::print("pytorch  n/a (see the torch lines above)\n");
    }
    if (peak > 0) fmt::print("MFU against a dense TF32 peak of {:.1f} TFLOP/s\n", peak);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda_train_step: error: %s\n", e.what());
    return 1;
  }
}
