// s2dm-fid's feature networks on the CPU: pytorch-fid's FID Inception-v3 (random weights) on
// CIFAR-sized 32×32 RGB images resized to 299×299, side by side with pytorch-fid itself in PyTorch
// CPU (benchmarks/torch_fid_features.py, Debian's python3-torch) at the same thread count and
// batch, measured in the same run; and the Fashion-MNIST network on 10,000 images.
// With --device cuda: s2dm-fid's Inception pass over --count CIFAR-sized images on the GPU
// (upload, resize, network, features back to the host), in batches of --batch.
//
//   bench_fid_features [--threads T] [--batch B] [--runs R] [--no-torch]
//                      [--device cuda[:i] --count N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <omp.h>
#include <string>
#include <vector>

#include "benchmarks/python_oracle.h"
#include "engine/cpu/cpu_info.h"
#include "engine/cpu/runtime_env.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "models/fmnist_features.h"
#include "models/inception_fid.h"

extern "C" void openblas_set_num_threads(int);

using namespace s2dm;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double time_median(int runs, int warmup, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < warmup + runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    if (i >= warmup) t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

// Random weights of a plausible scale (the time does not depend on the values).
void randomise(Module& m, uint64_t seed) {
  Generator g(seed);
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : m.named_parameters())
    state[name] = mul_scalar(randn(t.shape(), g), 1.0 / std::sqrt(static_cast<double>(t.numel() / t.size(0))));
  m.load_state_dict(state);
}

double torch_seconds(int threads, int64_t batch, int runs) {
  const std::string cmd = bench::python_interpreter() + " " + S2DM_SOURCE_DIR +
                          "/benchmarks/torch_fid_features.py --threads " + std::to_string(threads) +
                          " --batch " + std::to_string(batch) + " --size 32 --runs " + std::to_string(runs);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return 0;
  char line[256];
  double s = 0;
  while (std::fgets(line, sizeof line, pipe)) std::sscanf(line, "batch %lf", &s);
  pclose(pipe);
  return s;
}

// The whole Inception pass of s2dm-fid over `count` images on a device, as it runs there.
int device_pass(Device device, int64_t batch, int64_t count) {
  InceptionFid inception(LayerOptions{DType::F32, device});
  randomise(inception, 1);
  Generator g(2);
  const Tensor cifar = rand({batch, 3, 32, 32}, g);
  inception.features(cifar).to(Device::cpu());  // warm-up: kernels, algorithms, the allocator
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t done = 0; done < count; done += batch) inception.features(cifar).to(Device::cpu());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("FID Inception on %s, %lld CIFAR-sized images in batches of %lld: %.1f s, %.0f img/s\n",
              device.str().c_str(), static_cast<long long>(count), static_cast<long long>(batch), s,
              static_cast<double>(count) / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  apply_runtime_env(argv);
  int threads = 2, runs = 5;
  int64_t batch = 50, count = 50000;
  bool torch = true;
  std::string device = "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--batch" && i + 1 < argc) batch = std::atoll(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--no-torch") torch = false;
    else if (a == "--device" && i + 1 < argc) device = argv[++i];
    else if (a == "--count" && i + 1 < argc) count = std::atoll(argv[++i]);
    else {
      std::fprintf(stderr, "bench_fid_features: unknown argument '%s' (use --threads T --batch B "
                   "--runs R --no-torch --device D --count N)\n", a.c_str());
      return 2;
    }
  }
  if (device != "cpu") {
    try {
      return device_pass(Device::parse(device), batch, count);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_fid_features: %s\n", e.what());
      return 1;
    }
  }
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  std::printf("FID feature networks, CPU float32, %d threads, median of %d\nmachine: %s\n", threads,
              runs, describe_cpu_setup().c_str());

  InceptionFid inception;
  randomise(inception, 1);
  Generator g(2);
  const Tensor cifar = rand({batch, 3, 32, 32}, g);
  const double ours = time_median(runs, 1, [&] { inception.features(cifar); });
  const double ref = torch ? torch_seconds(threads, batch, runs) : 0.0;
  std::printf("%-34s %10s %12s %8s\n", "network", "s2dm img/s", "torch img/s", "ratio");
  const double b = static_cast<double>(batch);
  if (ref > 0)
    std::printf("%-34s %10.1f %12.1f %7.2fx\n", "inception, 32x32 -> 299x299", b / ours, b / ref, ref / ours);
  else
    std::printf("%-34s %10.1f %12s %8s\n", "inception, 32x32 -> 299x299", b / ours, "n/a", "n/a");

  Generator init(0);
  FmnistFeatureNet fmnist(init);
  fmnist.train(false);
  const Tensor fm = rand({500, 1, 32, 32}, g);
  const double per500 = time_median(runs, 1, [&] { fmnist.features(fm); });
  std::printf("%-34s %10.1f %12s %8s   (10,000 images: %.2f s)\n", "fmnist features, 32x32",
              500.0 / per500, "n/a", "n/a", 20 * per500);
  return 0;
}
