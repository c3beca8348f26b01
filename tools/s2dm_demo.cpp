// s2dm-demo: a small end-to-end run of the engine on the CPU. A miniature UNet-shaped network
// (conv, group norm + SiLU, timestep embedding, stride-2 downsample, attention, nearest upsample,
// skip concatenation) learns to predict the noise added to synthetic images, with Adam, gradient
// clipping and an EMA of the weights — every piece the diffusion trainer is built from.
// It prints the loss as it trains and writes the EMA weights and a denoised batch to --out.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/nn/flat_parameters.h"
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"

using namespace s2dm;

namespace {

constexpr int kRes = 16, kCh = 32;

struct TinyUNet : Module {
  std::shared_ptr<Linear> temb;
  std::shared_ptr<Conv2d> conv_in, down, q, k, v, proj, up, conv_out;
  std::shared_ptr<GroupNorm> norm_in, norm_mid, norm_out;
  explicit TinyUNet(Generator& g) {
    temb = register_module("temb", std::make_shared<Linear>(kCh, kCh, g));
    conv_in = register_module("conv_in", std::make_shared<Conv2d>(1, kCh, 3, 1, 1, g));
    norm_in = register_module("norm_in", std::make_shared<GroupNorm>(8, kCh));
    down = register_module("down", std::make_shared<Conv2d>(kCh, kCh, 3, 2, 0, g));
    norm_mid = register_module("norm_mid", std::make_shared<GroupNorm>(8, kCh));
    q = register_module("q", std::make_shared<Conv2d>(kCh, kCh, 1, 1, 0, g));
    k = register_module("k", std::make_shared<Conv2d>(kCh, kCh, 1, 1, 0, g));
    v = register_module("v", std::make_shared<Conv2d>(kCh, kCh, 1, 1, 0, g));
    proj = register_module("proj", std::make_shared<Conv2d>(kCh, kCh, 1, 1, 0, g));
    up = register_module("up", std::make_shared<Conv2d>(kCh, kCh, 3, 1, 1, g));
    norm_out = register_module("norm_out", std::make_shared<GroupNorm>(8, 2 * kCh));
    conv_out = register_module("conv_out", std::make_shared<Conv2d>(2 * kCh, 1, 3, 1, 1, g));
  }

  Tensor forward(const Tensor& x, const Tensor& t) const {
    const int64_t n = x.size(0);
    Tensor e = silu(temb->forward(timestep_embedding(t, kCh))).reshape({n, kCh, 1, 1});
    Tensor h0 = add(conv_in->forward(x), e);                                // [n, C, 16, 16]
    Tensor h = down->forward(pad2d(norm_in->forward_silu(h0), 0, 1, 0, 1));  // [n, C, 8, 8]
    // Single-head attention over the 8x8 positions.
    Tensor hn = norm_mid->forward(h);
    auto tokens = [&](const std::shared_ptr<Conv2d>& c) {
      return c->forward(hn).reshape({n, kCh, -1}).permute({0, 2, 1});
    };
    Tensor a = attention(tokens(q), tokens(k), tokens(v));  // [n, 64, C]
    h = add(h, proj->forward(a.permute({0, 2, 1}).reshape({n, kCh, kRes / 2, kRes / 2})));
    h = up->forward(upsample_nearest2x(h));                 // [n, C, 16, 16]
    return conv_out->forward(norm_out->forward_silu(concat({h, h0}, 1)));
  }
};

// Images of a few soft Gaussian blobs in [-1, 1].
Tensor synthetic_images(int64_t n, Generator& g) {
  Tensor params = rand({n, 3, 3}, g, DType::F64);
  const auto p = params.to_vector();
  std::vector<float> img(static_cast<size_t>(n * kRes * kRes), -1.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int b = 0; b < 3; ++b) {
      const double cy = 3 + 10 * p[static_cast<size_t>(i * 9 + b * 3)];
      const double cx = 3 + 10 * p[static_cast<size_t>(i * 9 + b * 3 + 1)];
      const double r = 1.5 + 2 * p[static_cast<size_t>(i * 9 + b * 3 + 2)];
      for (int y = 0; y < kRes; ++y)
        for (int x = 0; x < kRes; ++x) {
          float& v = img[static_cast<size_t>((i * kRes + y) * kRes + x)];
          v = std::min(1.0f, v + 2.0f * static_cast<float>(std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * r * r))));
        }
    }
  return Tensor::from_vector(img, {n, 1, kRes, kRes});
}

int run(int argc, char** argv) {
  int steps = 300, batch = 32;
  std::string out = "out/demo";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      S2DM_CHECK(i + 1 < argc, "{} needs a value", a);
      return argv[++i];
    };
    if (a == "--steps") steps = std::stoi(value());
    else if (a == "--batch") batch = std::stoi(value());
    else if (a == "--out") out = value();
    else if (a == "--help" || a == "-h") {
      std::puts("usage: s2dm-demo [--steps N] [--batch B] [--out DIR]");
      return 0;
    } else {
      fail("unknown option '{}'; see --help", a);
    }
  }
  S2DM_CHECK(steps > 0 && batch > 0, "--steps and --batch must be positive");
  std::filesystem::create_directories(out);

  Generator init(1), data(2), noise(3);
  TinyUNet net(init);
  FlatParameters flat(net);
  Adam adam(flat, AdamConfig{2e-3});
  Ema ema(flat, 0.99);
  std::printf("tiny UNet: %lld parameters; %d steps of batch %d\n",
              static_cast<long long>(flat.numel()), steps, batch);
  const auto t0 = std::chrono::steady_clock::now();
  double first = 0, last = 0;
  for (int step = 1; step <= steps; ++step) {
    Tensor x0 = synthetic_images(batch, data);
    // Noise levels a = ᾱ in (0.05, 0.95): x_t = √a x0 + √(1−a) ε; the net predicts ε.
    Tensor a = add_scalar(mul_scalar(rand({batch, 1, 1, 1}, noise), 0.9), 0.05);
    Tensor eps = randn(x0.shape(), noise);
    Tensor xt = add(mul(sqrt(a), x0), mul(sqrt(rsub_scalar(a, 1.0)), eps));
    Tensor t = mul_scalar(rsub_scalar(a.reshape({batch}), 1.0), 1000.0);
    flat.zero_grad();
    Tensor loss = mse_loss(net.forward(xt, t), eps);
    const double l = loss.item();
    S2DM_CHECK(std::isfinite(l), "loss became {} at step {}", l, step);
    loss.backward();
    adam.step(clip_coefficient(flat.grad_norm(), 1.0));
    ema.update();
    if (step == 1) first = l;
    last = l;
    if (step % 25 == 0 || step == 1) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("step %4d  loss %.4f  %.1f img/s\n", step, l, step * batch / s);
      std::fflush(stdout);
    }
  }
  std::printf("loss %.4f -> %.4f\n", first, last);
  save_npy(out + "/ema_flat.npy", ema.values());
  std::printf("wrote %s/ema_flat.npy\n", out.c_str());
  return last < first ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "s2dm-demo: error: %s\n", e.what());
    return 1;
  }
}
