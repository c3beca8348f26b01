// CPU conv2d and GEMM throughput at UNet shapes, against PyTorch CPU measured in the same run.
//
//   bench_cpu_conv_gemm [--threads T] [--runs R] [--warmup W] [--repeat K] [--no-torch]
//   bench_cpu_conv_gemm --winograd [--threads T] [--runs R] [--warmup W] [--repeat K]
//
// --winograd times the shapes either side of the rule that picks Winograd kernels (oneDNN's from
// AVX-512 up, s2dm's own below: engine/cpu/conv_onednn.h) on Winograd and on direct, alternating
// the two K times in one run, and prints the speed-up and which of the two the default path
// picks. Where oneDNN has Winograd, s2dm's own (S2DM_CONV=s2dm-winograd) is timed beside it.
//
// Every case is float32. Forward runs under NoGradGuard; backward is the recorded node's backward
// alone (dx, dW and db from the output gradient, no accumulation into .grad), which is what the
// reference script times with torch.autograd.grad. Times are medians of R runs after W warm-ups;
// GFLOP/s counts 2·MACs forward and 4·MACs backward. The reference comes from
// benchmarks/torch_cpu_conv_gemm.py, run with the same thread count; without an importable torch
// only our numbers are printed. --repeat K alternates our pass and the reference pass K times and
// keeps each side's best median, so a burst of load from other processes on a shared machine
// does not land on one side only.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/cpu/runtime_env.h"
#include "benchmarks/python_oracle.h"

#include "engine/cpu/conv_onednn.h"
#include "engine/cpu/cpu_info.h"
#include "engine/error.h"
#include "engine/ops.h"

// The engine runs its GEMMs on OpenBLAS, whose thread pool is process-wide: set it to match.
extern "C" void openblas_set_num_threads(int);

using namespace s2dm;

namespace {

struct ConvCase {
  const char* name;
  int64_t n, ci, co, h, w, k;
  int stride, pad;
  double macs() const {
    const int64_t ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
    return static_cast<double>(n * co * ci * k * k * ho * wo);
  }
};

struct GemmCase {
  const char* name;
  int64_t m, n, k;
  double macs() const { return static_cast<double>(m * n * k); }
};

const std::vector<ConvCase> kConvCases = {
    {"conv3x3 64->64 32x32 N32", 32, 64, 64, 32, 32, 3, 1, 1},
    {"conv3x3 128->128 16x16 N32", 32, 128, 128, 16, 16, 3, 1, 1},
    {"conv3x3 256->256 8x8 N32", 32, 256, 256, 8, 8, 3, 1, 1},
    {"conv3x3 s2 128->128 32x32 N32", 32, 128, 128, 32, 32, 3, 2, 1},
    {"conv1x1 128->64 16x16 N32", 32, 128, 64, 16, 16, 1, 1, 0},
    {"conv3x3 3->64 32x32 N32", 32, 3, 64, 32, 32, 3, 1, 1},
    {"conv3x3 64->64 32x32 N1", 1, 64, 64, 32, 32, 3, 1, 1},
    // fmnist-small's full-resolution level and its up-path concat input.
    {"conv3x3 32->32 32x32 N32", 32, 32, 32, 32, 32, 3, 1, 1},
    {"conv3x3 64->32 32x32 N32", 32, 64, 32, 32, 32, 3, 1, 1},
    {"conv3x3 64->64 16x16 N32", 32, 64, 64, 16, 16, 3, 1, 1},
    {"conv3x3 128->64 16x16 N32", 32, 128, 64, 16, 16, 3, 1, 1},
    {"conv3x3 64->64 8x8 N32", 32, 64, 64, 8, 8, 3, 1, 1},
};

// Either side of the Winograd rule (>= 32 input channels, >= 32 4x4 output tiles): the tiles
// are batch x ceil(H/4) x ceil(W/4).
const std::vector<ConvCase> kWinogradCases = {
    {"conv3x3 64->64 32x32 N64", 64, 64, 64, 32, 32, 3, 1, 1},
    {"conv3x3 32->32 32x32 N32", 32, 32, 32, 32, 32, 3, 1, 1},
    {"conv3x3 128->128 32x32 N4", 4, 128, 128, 32, 32, 3, 1, 1},
    {"conv3x3 128->128 32x32 N1", 1, 128, 128, 32, 32, 3, 1, 1},
    {"conv3x3 256->256 16x16 N4", 4, 256, 256, 16, 16, 3, 1, 1},
    {"conv3x3 256->256 16x16 N2", 2, 256, 256, 16, 16, 3, 1, 1},
    {"conv3x3 256->256 16x16 N1", 1, 256, 256, 16, 16, 3, 1, 1},
    {"conv3x3 256->256 8x8 N8", 8, 256, 256, 8, 8, 3, 1, 1},
    {"conv3x3 256->256 8x8 N4", 4, 256, 256, 8, 8, 3, 1, 1},
    {"conv3x3 64->64 8x8 N32", 32, 64, 64, 8, 8, 3, 1, 1},
    {"conv3x3 256->256 4x4 N64", 64, 256, 256, 4, 4, 3, 1, 1},
    {"conv3x3 256->256 4x4 N16", 16, 256, 256, 4, 4, 3, 1, 1},
    {"conv3x3 16->16 32x32 N32", 32, 16, 16, 32, 32, 3, 1, 1},
    {"conv3x3 1->32 32x32 N32", 32, 1, 32, 32, 32, 3, 1, 1},
    {"conv3x3 32->1 32x32 N32", 32, 32, 1, 32, 32, 3, 1, 1},
};

const std::vector<GemmCase> kGemmCases = {
    {"gemm 4096x512x512", 4096, 512, 512},
    {"gemm 1024x2048x512", 1024, 2048, 512},
};

struct Options {
  int threads = 0;
  int runs = 7;
  int warmup = 2;
  int repeat = 1;
  bool torch = true;
  bool winograd = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median of `runs` timings of f() after `warmup` untimed calls; setup() runs untimed before each.
double median_time(const Options& o, const std::function<void()>& setup,
                   const std::function<void()>& f) {
  for (int i = 0; i < o.warmup; ++i) {
    setup();
    f();
  }
  std::vector<double> t;
  for (int i = 0; i < o.runs; ++i) {
    setup();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Timing {
  double fwd = 0, bwd = 0;  // seconds
};

Timing time_conv(const Options& o, const ConvCase& c, Generator& gen) {
  Tensor x = randn({c.n, c.ci, c.h, c.w}, gen).set_requires_grad(true);
  Tensor w = randn({c.co, c.ci, c.k, c.k}, gen).set_requires_grad(true);
  Tensor b = randn({c.co}, gen).set_requires_grad(true);
  Timing t;
  {
    NoGradGuard no_grad;
    t.fwd = median_time(o, [] {}, [&] { conv2d(x, w, b, c.stride, c.pad); });
  }
  Tensor y, g;
  t.bwd = median_time(
      o,
      [&] {
        y = conv2d(x, w, b, c.stride, c.pad);
        if (!g.defined()) g = Tensor::ones(y.shape());
      },
      [&] {
        NoGradGuard no_grad;
        y.grad_fn()->backward(g);
      });
  return t;
}

Timing time_gemm(const Options& o, const GemmCase& c, Generator& gen) {
  Tensor a = randn({c.m, c.k}, gen).set_requires_grad(true);
  Tensor b = randn({c.k, c.n}, gen).set_requires_grad(true);
  Timing t;
  {
    NoGradGuard no_grad;
    t.fwd = median_time(o, [] {}, [&] { matmul(a, b); });
  }
  Tensor y, g = Tensor::ones({c.m, c.n});
  t.bwd = median_time(
      o, [&] { y = matmul(a, b); },
      [&] {
        NoGradGuard no_grad;
        y.grad_fn()->backward(g);
      });
  return t;
}

// Runs the PyTorch reference; returns "conv <i>" / "gemm <i>" -> timing, empty when unavailable.
std::map<std::string, Timing> run_torch(const Options& o, const std::string& script,
                                        std::string& torch_version) {
  std::string cmd = fmt::format("{} {} --threads {} --runs {} --warmup {}", bench::python_interpreter(), script,
                                o.threads, o.runs, o.warmup);
  for (const ConvCase& c : kConvCases)
    cmd += fmt::format(" --conv {},{},{},{},{},{},{},{}", c.n, c.ci, c.co, c.h, c.w, c.k,
                       c.stride, c.pad);
  for (const GemmCase& c : kGemmCases) cmd += fmt::format(" --gemm {},{},{}", c.m, c.n, c.k);
  std::map<std::string, Timing> out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "torch") {
      in >> torch_version;
    } else if (kind == "threads") {
      int th = 0;
      in >> th;
      if (th != o.threads)
        std::printf("warning: torch reports %d threads, expected %d\n", th, o.threads);
    } else if (kind == "conv" || kind == "gemm") {
      int idx = -1;
      Timing t;
      if (in >> idx >> t.fwd >> t.bwd) out[kind + " " + std::to_string(idx)] = t;
    }
  }
  const int status = pclose(pipe);
  if (status != 0) out.clear();
  return out;
}

// The reference script sits next to this source file (CMake compiles it by absolute path);
// fall back to the working directory for relocated builds.
std::string script_path() {
  const std::string here = __FILE__;
  const auto slash = here.rfind('/');
  const std::string next_to_source =
      (slash == std::string::npos ? std::string(".") : here.substr(0, slash)) +
      "/torch_cpu_conv_gemm.py";
  if (std::ifstream(next_to_source).good()) return next_to_source;
  return "benchmarks/torch_cpu_conv_gemm.py";
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] {
      S2DM_CHECK(i + 1 < argc, "{} needs a value", a);
      return std::atoi(argv[++i]);
    };
    if (a == "--threads") o.threads = value();
    else if (a == "--runs") o.runs = value();
    else if (a == "--warmup") o.warmup = value();
    else if (a == "--repeat") o.repeat = value();
    else if (a == "--no-torch") o.torch = false;
    else if (a == "--winograd") o.winograd = true;
    else fail("unknown argument '{}' (use --threads T --runs R --warmup W --repeat K --no-torch "
              "--winograd)",
              a);
  }
  if (o.threads <= 0) o.threads = omp_get_max_threads();
  S2DM_CHECK(o.runs >= 1 && o.warmup >= 0 && o.repeat >= 1,
             "--runs and --repeat must be >= 1 and --warmup >= 0");
  return o;
}

void print_row(const std::string& name, double ours, const Timing* ref, double flops,
               bool backward) {
  const double ours_gf = flops / ours / 1e9;
  if (ref) {
    const double ref_gf = flops / (backward ? ref->bwd : ref->fwd) / 1e9;
    std::printf("%-36s %10.1f %10.1f %7.2f\n", name.c_str(), ours_gf, ref_gf, ours_gf / ref_gf);
  } else {
    std::printf("%-36s %10.1f %10s %7s\n", name.c_str(), ours_gf, "-", "-");
  }
}

// The Winograd rule's evidence: each case on Winograd (S2DM_CONV=winograd) and on direct
// (S2DM_CONV=direct), with the kernel the default path picks; where that Winograd is oneDNN's,
// s2dm's own as well (S2DM_CONV=s2dm-winograd).
void compare_winograd(const Options& o) {
  const bool third = cpu::onednn_has_avx512_core();
  std::printf("S2DM_CONV=winograd against S2DM_CONV=direct%s, alternating, best of %d each; ms\n\n",
              third ? " and s2dm-winograd" : "", o.repeat);
  std::printf("%-28s %5s %-10s %9s %9s %6s %9s %9s %6s", "case", "tiles", "default", "wino fwd",
              "direct", "gain", "wino bwd", "direct", "gain");
  std::printf(third ? " %9s %9s\n" : "\n", "s2dm fwd", "s2dm bwd");
  const cpu::ConvPath paths[] = {cpu::ConvPath::onednn_winograd, cpu::ConvPath::onednn_direct,
                                 cpu::ConvPath::s2dm_winograd};
  const int count = third ? 3 : 2;
  for (const ConvCase& c : kWinogradCases) {
    Timing best[3];
    for (int rep = 0; rep < o.repeat; ++rep)
      for (int i = 0; i < count; ++i) {
        cpu::set_conv_path(paths[i]);
        Generator gen(2026);
        const Timing t = time_conv(o, c, gen);
        best[i].fwd = rep == 0 ? t.fwd : std::min(best[i].fwd, t.fwd);
        best[i].bwd = rep == 0 ? t.bwd : std::min(best[i].bwd, t.bwd);
      }
    cpu::set_conv_path(cpu::ConvPath::onednn_auto);
    const int64_t ho = (c.h + 2 * c.pad - c.k) / c.stride + 1;
    const int64_t wo = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    const std::string kernels = cpu::onednn_conv_kernels(
        {c.n, c.ci, c.h, c.w, c.co, c.k, c.k, ho, wo, c.stride, c.pad, c.pad});
    const char* chosen = kernels.find("wino") != std::string::npos ? "Winograd" : "direct";
    std::printf("%-28s %5lld %-10s %9.2f %9.2f %5.2fx %9.2f %9.2f %5.2fx", c.name,
                static_cast<long long>(c.n * ((ho + 3) / 4) * ((wo + 3) / 4)), chosen,
                best[0].fwd * 1e3, best[1].fwd * 1e3, best[1].fwd / best[0].fwd,
                best[0].bwd * 1e3, best[1].bwd * 1e3, best[1].bwd / best[0].bwd);
    if (third) std::printf(" %9.2f %9.2f", best[2].fwd * 1e3, best[2].bwd * 1e3);
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    const Options o = parse(argc, argv);
    omp_set_num_threads(o.threads);
    openblas_set_num_threads(o.threads);
    std::printf("machine: %s; threads: %d; float32; median of %d runs after %d warm-up, best of %d "
                "alternating passes\n",
                describe_cpu_setup().c_str(), o.threads, o.runs, o.warmup, o.repeat);
    if (o.winograd) {
      compare_winograd(o);
      return 0;
    }

    // Keeps the faster of two timings of the same case.
    auto keep_best = [](Timing& best, const Timing& t) {
      best.fwd = best.fwd > 0 ? std::min(best.fwd, t.fwd) : t.fwd;
      best.bwd = best.bwd > 0 ? std::min(best.bwd, t.bwd) : t.bwd;
    };
    std::vector<Timing> conv(kConvCases.size()), gemm(kGemmCases.size());
    std::string torch_version;
    std::map<std::string, Timing> ref;
    bool have_ref = o.torch;
    for (int rep = 0; rep < o.repeat; ++rep) {
      Generator gen(2026);
      for (size_t i = 0; i < kConvCases.size(); ++i)
        keep_best(conv[i], time_conv(o, kConvCases[i], gen));
      for (size_t i = 0; i < kGemmCases.size(); ++i)
        keep_best(gemm[i], time_gemm(o, kGemmCases[i], gen));
      if (!have_ref) continue;
      const std::map<std::string, Timing> r = run_torch(o, script_path(), torch_version);
      if (r.empty()) {
        have_ref = false;
        ref.clear();
        continue;
      }
      for (const auto& [key, t] : r) keep_best(ref[key], t);
    }
    if (ref.empty()) {
      std::printf("PyTorch reference unavailable (torch not importable or --no-torch); "
                  "printing our numbers only\n");
    } else {
      std::printf("reference: PyTorch %s CPU, same thread count\n", torch_version.c_str());
    }
    std::printf("\n%-36s %10s %10s %7s\n", "case", "ours GF/s", "torch GF/s", "ratio");
    auto find = [&](const std::string& key) -> const Timing* {
      const auto it = ref.find(key);
      return it == ref.end() ? nullptr : &it->second;
    };
    for (size_t i = 0; i < kConvCases.size(); ++i) {
      const Timing* r = find("conv " + std::to_string(i));
      const double flops = 2 * kConvCases[i].macs();
      print_row(std::string(kConvCases[i].name) + " fwd", conv[i].fwd, r, flops, false);
      print_row(std::string(kConvCases[i].name) + " bwd", conv[i].bwd, r, 2 * flops, true);
    }
    for (size_t i = 0; i < kGemmCases.size(); ++i) {
      const Timing* r = find("gemm " + std::to_string(i));
      const double flops = 2 * kGemmCases[i].macs();
      print_row(std::string(kGemmCases[i].name) + " fwd", gemm[i].fwd, r, flops, false);
      print_row(std::string(kGemmCases[i].name) + " bwd", gemm[i].bwd, r, 2 * flops, true);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
