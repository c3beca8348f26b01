// CUDA kernel microbenchmarks on cuda:0, each against a reference measured in the same run:
//   copy         device-to-device copy bandwidth (the reference for memory-bound kernels)
//   group norm   GN+SiLU forward/backward at the CIFAR-10 UNet's shapes, GB/s and % of copy
//   attention    forward/backward TFLOP/s, ours vs cuBLAS GEMMs + our softmax; PyTorch SDPA
//                (benchmarks/torch_cuda_sdpa.py) when a CUDA-enabled torch is installed
//   skip loss    the fused S²-DM loss reduction, GB/s and % of copy
//   conv         cuDNN forward / backward-data / backward-filter TFLOP/s, TF32 and FP32
// Timing: CUDA events, warm-up, L2 flush before each run, rotated inputs, median (gpu_timer.h).
//
//   bench_cuda_kernels [--runs R] [--warmup W] [--batch B]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "benchmarks/cuda/gpu_timer.h"
#include "benchmarks/python_oracle.h"
#include "engine/backend.h"
#include "engine/cuda/cudnn_conv.h"
#include "engine/error.h"
#include "engine/ops/random.h"

using namespace s2dm;

namespace {

constexpr int kRotate = 3;  // input copies cycled through by consecutive runs

struct Options {
  int runs = 50, warmup = 5;
  int64_t batch = 128;
};

Backend& gpu() { return backend_for(Device::cuda(0)); }

std::vector<Tensor> random_copies(const Shape& s, uint64_t seed, double scale = 1.0) {
  std::vector<Tensor> v;
  Generator g(seed);
  for (int i = 0; i < kRotate; ++i) {
    Tensor t = Tensor::empty(s, DType::F32, Device::cuda(0));
    gpu().fill_normal(t, g.seed, g.take(static_cast<uint64_t>(t.numel())), 0.0, scale);
    v.push_back(t);
  }
  return v;
}

Tensor empty(const Shape& s) { return Tensor::empty(s, DType::F32, Device::cuda(0)); }

double copy_bandwidth(bench::GpuTimer& timer, const Options& o) {
  const Tensor src = empty({int64_t{64} << 20}), dst = empty({int64_t{64} << 20});
  const double t = timer.median_seconds(
      [&](int) {
        S2DM_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(),
                                        cudaMemcpyDeviceToDevice, cuda::stream(0)));
      },
      o.warmup, o.runs);
  const double bw = 2.0 * static_cast<double>(src.nbytes()) / t;
  fmt::print("copy            256 MiB device to device: {:8.1f} GB/s (read + write)\n", bw * 1e-9);
  return bw;
}

// Seconds for a device-to-device copy that moves `traffic` bytes (half read, half written): the
// reference for a memory-bound kernel of the same traffic, where launch and tail effects weigh
// as much as they do on the kernel (small tensors never reach the 256 MiB copy's bandwidth).
double copy_seconds(bench::GpuTimer& timer, const Options& o, double traffic) {
  const int64_t n = static_cast<int64_t>(traffic / 2 / sizeof(float));
  const Tensor src = empty({n}), dst = empty({n});
  return timer.median_seconds(
      [&](int) {
        S2DM_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(),
                                        cudaMemcpyDeviceToDevice, cuda::stream(0)));
      },
      o.warmup, o.runs);
}

void group_norm(bench::GpuTimer& timer, const Options& o, double copy_bw) {
  const struct {
    int64_t c, res;
  } shapes[] = {{128, 32}, {256, 16}, {256, 8}, {512, 16}};
  for (const auto& s : shapes) {
    const Shape shape{o.batch, s.c, s.res, s.res};
    const auto xs = random_copies(shape, 1), dys = random_copies(shape, 2);
    const Tensor gamma = Tensor::ones({s.c}, DType::F32, Device::cuda(0));
    const Tensor beta = Tensor::zeros({s.c}, DType::F32, Device::cuda(0));
    Tensor y = empty(shape), dx = empty(shape), dg = empty({s.c}), db = empty({s.c});
    Tensor mean = empty({o.batch, 32}), rstd = empty({o.batch, 32});
    const auto temb = random_copies({o.batch, s.c}, 10);  // the ResBlock's fused time embedding
    const double fwd = timer.median_seconds(
        [&](int i) {
          const int r = i % kRotate;
          gpu().group_norm_forward(xs[r], temb[r], gamma, beta, 32, 1e-6, true, y, mean, rstd);
        },
        o.warmup, o.runs);
    const double bwd = timer.median_seconds(
        [&](int i) {
          const int r = i % kRotate;
          gpu().group_norm_backward(xs[r], temb[r], gamma, beta, mean, rstd, dys[r], 32, true, dx,
                                    dg, db);
        },
        o.warmup, o.runs);
    // The least traffic each could do: forward reads x and writes y; backward reads x and dy and
    // writes dx.
    const double bytes = static_cast<double>(y.nbytes());
    const double copy_fwd = copy_seconds(timer, o, 2 * bytes);
    const double copy_bwd = copy_seconds(timer, o, 3 * bytes);
    fmt::print("gn+temb+silu {:>18} fwd {:7.1f} us {:7.1f} GB/s {:5.1f}% of copy ({:5.1f}% of a "
               "same-traffic copy) | bwd {:7.1f} us {:7.1f} GB/s {:5.1f}% of copy ({:5.1f}%)\n",
               shape_str(shape), fwd * 1e6, 2 * bytes / fwd * 1e-9, 100 * 2 * bytes / fwd / copy_bw,
               100 * copy_fwd / fwd, bwd * 1e6, 3 * bytes / bwd * 1e-9,
               100 * 3 * bytes / bwd / copy_bw, 100 * copy_bwd / bwd);
  }
}

void attention(bench::GpuTimer& timer, const Options& o) {
  const struct {
    int64_t n, c;
  } shapes[] = {{256, 256}, {64, 256}, {1024, 128}};
  for (const auto& s : shapes) {
    const int64_t b = o.batch, n = s.n, c = s.c;
    const double scale = 1.0 / std::sqrt(static_cast<double>(c));
    const auto qs = random_copies({b, n, c}, 3), ks = random_copies({b, n, c}, 4);
    const auto vs = random_copies({b, n, c}, 5), dos = random_copies({b, n, c}, 6);
    Tensor o_ = empty({b, n, c}), lse = empty({b, n}), dq = empty({b, n, c}), dk = empty({b, n, c});
    Tensor dv = empty({b, n, c}), scores = empty({b, n, n}), probs = empty({b, n, n});
    Tensor dprobs = empty({b, n, n});
    const double fwd_flops = 4.0 * b * n * n * c, bwd_flops = 10.0 * b * n * n * c;

    const double ours_fwd = timer.median_seconds(
        [&](int i) {
          const int r = i % kRotate;
          gpu().attention_forward(qs[r], ks[r], vs[r], scale, o_, lse);
        },
        o.warmup, o.runs);
    gpu().attention_forward(qs[0], ks[0], vs[0], scale, o_, lse);
    const double ours_bwd = timer.median_seconds(
        [&](int i) {
          gpu().attention_backward(qs[0], ks[0], vs[0], o_, lse, dos[i % kRotate], scale, dq, dk,
                                   dv);
        },
        o.warmup, o.runs);
    // Reference: the unfused computation on cuBLAS, materialising the [B, N, N] scores.
    const double ref_fwd = timer.median_seconds(
        [&](int i) {
          const int r = i % kRotate;
          gpu().gemm(qs[r], false, ks[r], true, scores, scale, 0.0);
          gpu().softmax_forward(scores, probs);
          gpu().gemm(probs, false, vs[r], false, o_, 1.0, 0.0);
        },
        o.warmup, o.runs);
    gpu().gemm(qs[0], false, ks[0], true, scores, scale, 0.0);
    gpu().softmax_forward(scores, probs);
    const double ref_bwd = timer.median_seconds(
        [&](int i) {
          const Tensor& d_o = dos[i % kRotate];
          gpu().gemm(probs, true, d_o, false, dv, 1.0, 0.0);
          gpu().gemm(d_o, false, vs[0], true, dprobs, 1.0, 0.0);
          gpu().softmax_backward(probs, dprobs, scores);  // dS into the scores buffer
          gpu().gemm(scores, false, ks[0], false, dq, scale, 0.0);
          gpu().gemm(scores, true, qs[0], false, dk, scale, 0.0);
        },
        o.warmup, o.runs);
    fmt::print("attention B={} N=M={} C={} ({}) fwd {:6.1f} TFLOP/s (cuBLAS ref {:6.1f}, x{:.2f}) | "
               "bwd {:6.1f} TFLOP/s (ref {:6.1f}, x{:.2f})\n",
               b, n, c, tf32_enabled() ? "ref TF32" : "FP32", fwd_flops / ours_fwd * 1e-12,
               fwd_flops / ref_fwd * 1e-12, ref_fwd / ours_fwd, bwd_flops / ours_bwd * 1e-12,
               bwd_flops / ref_bwd * 1e-12, ref_bwd / ours_bwd);
  }
  const std::string cmd = fmt::format("{} {}/benchmarks/torch_cuda_sdpa.py --batch {} 2>&1",
                                      bench::python_interpreter(), S2DM_SOURCE_DIR, o.batch);
  if (FILE* pipe = popen(cmd.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, pipe)) fmt::print("  torch: {}", line);
    pclose(pipe);
  }
}

void skip_loss(bench::GpuTimer& timer, const Options& o, double copy_bw) {
  for (int64_t pixels : {int64_t{3 * 32 * 32}, int64_t{3 * 64 * 64}}) {
    const Shape shape{o.batch, pixels};
    const auto out = random_copies(shape, 11), e1 = random_copies(shape, 12);
    const auto e2 = random_copies(shape, 13);
    const Tensor c = Tensor::full({o.batch}, 0.3, DType::F32, Device::cuda(0));
    const Tensor w0 = Tensor::full({o.batch}, 0.99, DType::F32, Device::cuda(0));
    const Tensor ws = Tensor::full({o.batch}, 0.01, DType::F32, Device::cuda(0));
    Tensor l0 = empty({o.batch}), ls = empty({o.batch}), loss = empty({1}), dout = empty(shape);
    const double t = timer.median_seconds(
        [&](int i) {
          const int r = i % kRotate;
          gpu().skip_loss(out[r], e1[r], e2[r], c, w0, ws, 1.0 / pixels, l0, ls, loss, dout);
        },
        o.warmup, o.runs);
    // Reads out, eps1, eps2 and writes dout: four passes' worth of the batch.
    const double bytes = 4.0 * static_cast<double>(dout.nbytes());
    const double copy = copy_seconds(timer, o, bytes);
    fmt::print("skip loss       {:>18} {:7.1f} us {:7.1f} GB/s {:5.1f}% of copy ({:5.1f}% of a "
               "same-traffic copy)\n",
               shape_str(shape), t * 1e6, bytes / t * 1e-9, 100 * bytes / t / copy_bw,
               100 * copy / t);
  }
}

void conv(bench::GpuTimer& timer, const Options& o) {
  const struct {
    int64_t ci, co, res, k;
  } shapes[] = {{128, 128, 32, 3}, {256, 256, 16, 3}, {256, 256, 8, 3}, {256, 128, 16, 1},
                {256, 256, 16, 1}};
  for (bool tf32 : {true, false}) {
    set_tf32_enabled(tf32);
    for (const auto& s : shapes) {
      const int64_t pad = s.k / 2;
      const Shape xs{o.batch, s.ci, s.res, s.res}, ws{s.co, s.ci, s.k, s.k};
      const Shape ys{o.batch, s.co, s.res, s.res};
      const auto x = random_copies(xs, 7), dy = random_copies(ys, 8);
      const auto w = random_copies(ws, 9, 0.05);
      const Tensor bias = Tensor::zeros({s.co}, DType::F32, Device::cuda(0));
      Tensor y = empty(ys), dx = empty(xs), dw = empty(ws), none;
      const Conv2dParams p{1, static_cast<int>(pad)};
      const double flops = 2.0 * o.batch * s.co * s.res * s.res * s.ci * s.k * s.k;
      const double fwd = timer.median_seconds(
          [&](int i) { gpu().conv2d_forward(x[i % kRotate], w[i % kRotate], bias, y, p); },
          o.warmup, o.runs);
      const double bwd_data = timer.median_seconds(
          [&](int i) {
            const int r = i % kRotate;
            gpu().conv2d_backward(x[r], w[r], dy[r], dx, none, none, p);
          },
          o.warmup, o.runs);
      const double bwd_filter = timer.median_seconds(
          [&](int i) {
            const int r = i % kRotate;
            gpu().conv2d_backward(x[r], w[r], dy[r], none, dw, none, p);
          },
          o.warmup, o.runs);
      fmt::print("conv {} {:>4}->{:<4} {}x{} k{}: fwd {:6.1f} | bwd-data {:6.1f} | bwd-filter "
                 "{:6.1f} TFLOP/s{}\n",
                 tf32 ? "TF32" : "FP32", s.ci, s.co, s.res, s.res, s.k, flops / fwd * 1e-12,
                 flops / bwd_data * 1e-12, flops / bwd_filter * 1e-12,
                 s.k == 1 ? " (batched cuBLAS)" : "");
      if (s.k != 1) continue;
      // The backend runs 1x1 convolutions as batched products; cuDNN's own, for comparison.
      cudaStream_t st = cuda::stream(0);
      const double c_fwd = timer.median_seconds(
          [&](int i) {
            const int r = i % kRotate;
            cuda::cudnn_conv2d_forward(0, st, x[r], w[r], bias, y, p);
          },
          o.warmup, o.runs);
      const double c_data = timer.median_seconds(
          [&](int i) {
            const int r = i % kRotate;
            cuda::cudnn_conv2d_backward(0, st, x[r], w[r], dy[r], dx, none, none, p);
          },
          o.warmup, o.runs);
      const double c_filter = timer.median_seconds(
          [&](int i) {
            const int r = i % kRotate;
            cuda::cudnn_conv2d_backward(0, st, x[r], w[r], dy[r], none, dw, none, p);
          },
          o.warmup, o.runs);
      fmt::print("conv {} {:>4}->{:<4} {}x{} k1: fwd {:6.1f} | bwd-data {:6.1f} | bwd-filter "
                 "{:6.1f} TFLOP/s (cuDNN)\n",
                 tf32 ? "TF32" : "FP32", s.ci, s.co, s.res, s.res, flops / c_fwd * 1e-12,
                 flops / c_data * 1e-12, flops / c_filter * 1e-12);
    }
  }
  set_tf32_enabled(true);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      S2DM_CHECK(i + 1 < argc, "{} needs a value (use --runs R --warmup W --batch B)", a);
      const int v = std::stoi(argv[++i]);
      if (a == "--runs") o.runs = v;
      else if (a == "--warmup") o.warmup = v;
      else if (a == "--batch") o.batch = v;
      else fail("unknown argument '{}' (use --runs R --warmup W --batch B)", a);
    }
    backend_for(Device::cuda(0));  // a clear error when there is no device
    fmt::print("{}; median of {} runs after {} warm-up, L2 flushed, inputs rotated\n",
               cuda::device_description(0), o.runs, o.warmup);
    bench::GpuTimer timer;
    const double copy_bw = copy_bandwidth(timer, o);
    group_norm(timer, o, copy_bw);
    attention(timer, o);
    skip_loss(timer, o, copy_bw);
    conv(timer, o);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda_kernels: error: %s\n", e.what());
    return 1;
  }
}
