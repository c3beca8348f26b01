// conv2d: hand-computed values, float64 gradient checks, agreement with a direct-loop reference
// on shapes that take the multi-threaded paths, input errors, and parity with PyTorch
// (tests/golden/gen_conv.py).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "engine/cpu/conv_onednn.h"
#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::check_gradients;
using test::leaf;
using test::randn64;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape, DType::F64);
}

Tensor golden(const std::string& name) {
  return load_npy(test::golden_path("conv/" + name + ".npy"));
}

struct ConvCase {
  int64_t n, ci, co, h, w, kh, kw;
  int stride, pad;  // pad: on H, and on W unless pad_w is given
  bool bias;
  int pad_w = -1;
  int pw() const { return pad_w < 0 ? pad : pad_w; }
};

std::string describe(const ConvCase& c) {
  return fmt::format("N{} {}->{} {}x{} k{}x{} s{} p({},{}){}", c.n, c.ci, c.co, c.h, c.w, c.kh,
                     c.kw, c.stride, c.pad, c.pw(), c.bias ? " bias" : "");
}

// Direct-loop convolution and its gradients for the loss sum(y * r), in double.
struct Reference {
  std::vector<double> y, dx, dw, db;
};

Reference reference_conv(const ConvCase& c, const std::vector<double>& x,
                         const std::vector<double>& w, const std::vector<double>& b,
                         const std::vector<double>& r) {
  const int64_t ho = (c.h + 2 * c.pad - c.kh) / c.stride + 1;
  const int64_t wo = (c.w + 2 * c.pw() - c.kw) / c.stride + 1;
  Reference out;
  out.y.assign(static_cast<size_t>(c.n * c.co * ho * wo), 0.0);
  out.dx.assign(x.size(), 0.0);
  out.dw.assign(w.size(), 0.0);
  out.db.assign(static_cast<size_t>(c.co), 0.0);
  auto xi = [&](int64_t n, int64_t ch, int64_t iy, int64_t ix) {
    return static_cast<size_t>(((n * c.ci + ch) * c.h + iy) * c.w + ix);
  };
  auto wi = [&](int64_t o, int64_t ch, int64_t ky, int64_t kx) {
    return static_cast<size_t>(((o * c.ci + ch) * c.kh + ky) * c.kw + kx);
  };
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t o = 0; o < c.co; ++o)
      for (int64_t oy = 0; oy < ho; ++oy)
        for (int64_t ox = 0; ox < wo; ++ox) {
          const size_t yi = static_cast<size_t>(((n * c.co + o) * ho + oy) * wo + ox);
          double acc = c.bias ? b[static_cast<size_t>(o)] : 0.0;
          const double g = r[yi];
          out.db[static_cast<size_t>(o)] += g;
          for (int64_t ch = 0; ch < c.ci; ++ch)
            for (int64_t ky = 0; ky < c.kh; ++ky)
              for (int64_t kx = 0; kx < c.kw; ++kx) {
                const int64_t iy = oy * c.stride - c.pad + ky, ix = ox * c.stride - c.pw() + kx;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                acc += x[xi(n, ch, iy, ix)] * w[wi(o, ch, ky, kx)];
                out.dx[xi(n, ch, iy, ix)] += g * w[wi(o, ch, ky, kx)];
                out.dw[wi(o, ch, ky, kx)] += g * x[xi(n, ch, iy, ix)];
              }
          out.y[yi] = acc;
        }
  return out;
}

void require_close_vec(const std::string& what, const std::vector<double>& actual,
                       const std::vector<double>& expected, double atol, double rtol) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!(std::abs(actual[i] - expected[i]) <= atol + rtol * std::abs(expected[i]))) {
      FAIL(what << ": element " << i << " is " << actual[i] << ", expected " << expected[i]);
    }
  }
}

}  // namespace

TEST_CASE("conv2d: hand-computed values and gradients", "[conv]") {
  // x = 1..9 as a 3x3 image, w = [[1, 2], [3, 4]].
  Tensor x = leaf(f64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}));
  Tensor w = leaf(f64({1, 2, 3, 4}, {1, 1, 2, 2}));
  Tensor b = leaf(f64({0.5}, {1}));
  Tensor y = conv2d(x, w, b);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == std::vector<double>{37.5, 47.5, 67.5, 77.5});
  sum(y).backward();
  // dW[i][j] sums the 2x2 windows' element (i, j); dx counts the weights covering each pixel.
  CHECK(w.grad().to_vector() == std::vector<double>{12, 16, 24, 28});
  CHECK(b.grad().to_vector() == std::vector<double>{4});
  CHECK(x.grad().to_vector() == std::vector<double>{1, 3, 2, 4, 10, 6, 3, 7, 4});

  // Padding 1, stride 2 on the same input: windows at padded (0,0), (0,2), (2,0), (2,2).
  Tensor y2 = conv2d(x.detach(), w.detach(), Tensor(), 2, 1);
  REQUIRE(y2.shape() == Shape{1, 1, 2, 2});
  CHECK(y2.to_vector() == std::vector<double>{4, 18, 36, 77});

  // Two output channels and float32: channel 1 uses the negated kernel.
  Tensor x32 = x.detach().to(DType::F32);
  Tensor w32 = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, -1, -2, -3, -4}, {2, 1, 2, 2});
  Tensor y3 = conv2d(x32, w32, Tensor::from_vector(std::vector<float>{0, 1}, {2}));
  CHECK(y3.dtype() == DType::F32);
  CHECK(y3.to_vector() == std::vector<double>{37, 47, 67, 77, -36, -46, -66, -76});
}

TEST_CASE("conv2d: float64 gradient checks", "[conv][grad]") {
  const std::vector<ConvCase> cases = {
      {1, 2, 3, 5, 5, 3, 3, 1, 1, true},   // 3x3 pad 1 stride 1, Ci != Co
      {3, 2, 2, 7, 5, 3, 3, 2, 0, true},   // stride 2 on odd H/W, batch 3
      {2, 3, 2, 4, 3, 1, 1, 1, 0, true},   // 1x1 (direct GEMM path)
      {1, 3, 4, 6, 7, 3, 3, 1, 1, false},  // no bias
      {2, 1, 3, 6, 6, 3, 3, 2, 1, true},   // stride-2 downsample with padding
      {1, 2, 2, 5, 4, 2, 3, 1, 2, true},   // non-square kernel, padding wider than needed
      {2, 2, 3, 5, 5, 1, 1, 2, 1, false},  // 1x1 with stride and padding (im2col path)
      {2, 2, 3, 4, 5, 1, 3, 1, 1, true},   // 1x3 pad 1: width kept, two all-padding rows
  };
  uint64_t seed = 700;
  for (const ConvCase& c : cases) {
    Tensor x = randn64({c.n, c.ci, c.h, c.w}, seed++);
    Tensor w = randn64({c.co, c.ci, c.kh, c.kw}, seed++, 0.5);
    Tensor b = c.bias ? randn64({c.co}, seed++) : Tensor();
    const int s = c.stride, p = c.pad;
    check_gradients(
        "conv2d " + describe(c),
        [s, p](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], s, p); },
        {x, w, b});
  }
}

TEST_CASE("conv2d: padding on H and W separately", "[conv][grad]") {
  // Hand-computed: x = 1..6 as a 2x3 image, a 1x3 kernel of ones padded (0, 1) sums each pixel
  // with its row neighbours; a 3x1 kernel padded (1, 0) sums it with its column neighbours.
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3});
  Tensor row = conv2d(x, Tensor::ones({1, 1, 1, 3}, DType::F64), Tensor(), 1, 0, 1);
  REQUIRE(row.shape() == Shape{1, 1, 2, 3});
  CHECK(row.to_vector() == std::vector<double>{3, 6, 5, 9, 15, 11});
  Tensor col = conv2d(x, Tensor::ones({1, 1, 3, 1}, DType::F64), Tensor(), 1, 1, 0);
  REQUIRE(col.shape() == Shape{1, 1, 2, 3});
  CHECK(col.to_vector() == std::vector<double>{5, 7, 9, 5, 7, 9});
  // Padding only on W, stride 2: two 2x2 windows, over columns -1..0 and 1..2.
  Tensor y = conv2d(x, Tensor::ones({1, 1, 2, 2}, DType::F64), Tensor(), 2, 0, 1);
  REQUIRE(y.shape() == Shape{1, 1, 1, 2});
  CHECK(y.to_vector() == std::vector<double>{5, 16});

  const std::vector<ConvCase> cases = {
      {2, 2, 3, 4, 9, 1, 7, 1, 0, true, 3},   // 1x7 padding (0, 3): the width is kept
      {1, 3, 2, 9, 4, 7, 1, 1, 3, true, 0},   // 7x1 padding (3, 0)
      {2, 2, 2, 7, 6, 3, 5, 2, 2, false, 1},  // stride 2, more padding on H than W
      {1, 2, 3, 5, 6, 3, 3, 1, 1, true, 0},   // 3x3 padded on H only: not the direct 3x3 path
      {2, 3, 2, 4, 3, 1, 1, 1, 0, true, 1},   // 1x1 padded on W only: not the direct 1x1 path
      {1, 2, 2, 3, 2, 1, 7, 1, 0, true, 3},   // padding wider than the image
      {1, 2, 3, 2, 3, 7, 1, 1, 3, false, 0},
  };
  uint64_t seed = 1500;
  for (const ConvCase& c : cases) {
    Tensor xs = randn64({c.n, c.ci, c.h, c.w}, seed++);
    Tensor w = randn64({c.co, c.ci, c.kh, c.kw}, seed++, 0.5);
    Tensor b = c.bias ? randn64({c.co}, seed++) : Tensor();
    const int s = c.stride, ph = c.pad, pw = c.pw();
    check_gradients(
        "conv2d " + describe(c),
        [s, ph, pw](const std::vector<Tensor>& in) {
          return conv2d(in[0], in[1], in[2], s, ph, pw);
        },
        {xs, w, b});
  }
}

TEST_CASE("conv2d: gradients only for inputs that need them", "[conv][grad]") {
  Tensor x = randn64({2, 3, 5, 5}, 31, 1.0, 0.0, false);
  Tensor w = randn64({4, 3, 3, 3}, 32);
  Tensor b = randn64({4}, 33, 1.0, 0.0, false);
  Tensor y = conv2d(x, w, b, 1, 1);
  REQUIRE(y.requires_grad());
  Tensor r = randn64(y.shape(), 34, 1.0, 0.0, false);
  sum(mul(y, r)).backward();
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(b.grad().defined());
  REQUIRE(w.grad().defined());
  const ConvCase c{2, 3, 4, 5, 5, 3, 3, 1, 1, true};
  const Reference ref =
      reference_conv(c, x.to_vector(), w.to_vector(), b.to_vector(), r.to_vector());
  require_close_vec("dw", w.grad().to_vector(), ref.dw, 1e-12, 1e-12);

  // Without grad mode nothing is recorded.
  NoGradGuard guard;
  CHECK_FALSE(conv2d(x, w, b, 1, 1).requires_grad());
}

TEST_CASE("conv2d: non-contiguous inputs", "[conv]") {
  // A channels-last tensor permuted to NCHW is a strided view; the result must match its copy.
  Tensor nhwc = randn64({2, 5, 4, 3}, 41, 1.0, 0.0, false);
  Tensor x = nhwc.permute({0, 3, 1, 2});
  REQUIRE_FALSE(x.is_contiguous());
  Tensor w = randn64({2, 3, 3, 3}, 42, 1.0, 0.0, false);
  test::require_close("strided input", conv2d(x, w, Tensor(), 1, 1),
                      conv2d(x.contiguous(), w, Tensor(), 1, 1), 1e-14, 1e-14);
  Tensor v = leaf(nhwc);
  check_gradients(
      "conv2d through permute",
      [](const std::vector<Tensor>& in) {
        return conv2d(in[0].permute({0, 3, 1, 2}), in[1], Tensor(), 2, 1);
      },
      {v, leaf(w)});
}

TEST_CASE("conv2d: agrees with a direct loop on multi-threaded shapes", "[conv]") {
  // Each case has enough work (> 2^18 multiply-adds) for the backend to use its OpenMP team.
  const std::vector<ConvCase> cases = {
      {3, 6, 8, 21, 19, 3, 3, 1, 1, true},    // odd batch: column blocks across threads
      {1, 16, 12, 29, 27, 3, 3, 2, 1, true},  // one sample: channel-split input gradient
      {2, 9, 6, 12, 12, 5, 5, 1, 2, false},   // 5x5 kernel
      {1, 48, 40, 16, 16, 1, 1, 1, 0, true},  // 1x1 direct path, one sample
      {5, 24, 40, 9, 9, 1, 1, 1, 0, false},   // 1x1 direct path, several samples
      {4, 16, 16, 37, 13, 3, 3, 3, 0, true},  // stride 3 (kernel == stride, no overlap)
      {1, 16, 16, 13, 11, 3, 3, 1, 1, true},  // column blocks that end mid-row
      {2, 12, 10, 23, 17, 5, 5, 1, 2, true},  // 5x5 "same" padding, blocks end mid-row
      {2, 16, 12, 17, 17, 1, 7, 1, 0, true, 3},   // Inception's 1x7 padding (0, 3): width kept
      {2, 12, 16, 17, 17, 7, 1, 1, 3, false, 0},  // and 7x1 padding (3, 0)
      {2, 8, 12, 35, 35, 3, 3, 2, 0, true},       // its unpadded 3x3 stride-2 reduction
      {1, 10, 14, 19, 23, 3, 5, 2, 2, true, 1},   // asymmetric padding with stride 2
      {2, 64, 64, 9, 3, 1, 7, 1, 0, true, 3},     // 1x7 on an image narrower than the kernel
  };
  uint64_t seed = 900;
  for (const ConvCase& c : cases) {
    for (DType dt : {DType::F64, DType::F32}) {
      INFO(describe(c) << " in " << dtype_name(dt));
      const double tol = dt == DType::F64 ? 1e-11 : 2e-4;
      Tensor x = randn64({c.n, c.ci, c.h, c.w}, seed, 1.0, 0.0, false);
      Tensor w = randn64({c.co, c.ci, c.kh, c.kw}, seed + 1, 0.3, 0.0, false);
      Tensor b = c.bias ? randn64({c.co}, seed + 2, 1.0, 0.0, false) : Tensor();
      const int64_t ho = (c.h + 2 * c.pad - c.kh) / c.stride + 1;
      const int64_t wo = (c.w + 2 * c.pw() - c.kw) / c.stride + 1;
      Tensor r = randn64({c.n, c.co, ho, wo}, seed + 3, 1.0, 0.0, false);
      const Reference ref = reference_conv(
          c, x.to_vector(), w.to_vector(), c.bias ? b.to_vector() : std::vector<double>{},
          r.to_vector());
      Tensor xt = leaf(x.to(dt)), wt = leaf(w.to(dt));
      Tensor bt = c.bias ? leaf(b.to(dt)) : Tensor();
      Tensor y = conv2d(xt, wt, bt, c.stride, c.pad, c.pw());
      REQUIRE(y.shape() == Shape{c.n, c.co, ho, wo});
      REQUIRE(y.dtype() == dt);
      require_close_vec("y", y.to_vector(), ref.y, tol, tol);
      sum(mul(y, r.to(dt))).backward();
      require_close_vec("dx", xt.grad().to_vector(), ref.dx, tol, tol);
      require_close_vec("dw", wt.grad().to_vector(), ref.dw, tol * 10, tol);
      if (c.bias) require_close_vec("db", bt.grad().to_vector(), ref.db, tol * 10, tol);
    }
    seed += 4;
  }
}

TEST_CASE("conv2d: float32 on oneDNN agrees with the im2col path at UNet shapes", "[conv]") {
  struct Shape4 {
    int64_t n, ci, h, co, k, stride, pad;
  };
  // The UNet's 3x3 and 1x1 convolutions at 32, 16 and 8 wide, its stride-2 downsample (padded
  // by pad2d first, so 17 wide), and stride 2 unpadded on an even width, which oneDNN cannot
  // express (the last input column is never read) and the native path takes. Each oneDNN
  // path (its own choice, Winograd where it takes it, and direct only) against native.
  const Shape4 shapes[] = {{4, 128, 32, 128, 3, 1, 1}, {4, 256, 16, 256, 3, 1, 1},
                           {4, 256, 8, 512, 3, 1, 1},  {4, 256, 16, 128, 1, 1, 0},
                           {4, 128, 17, 128, 3, 2, 0}, {2, 8, 8, 4, 3, 2, 0},
                           {16, 64, 16, 64, 3, 1, 1}};
  CHECK_FALSE(cpu::onednn_conv_applies({2, 8, 8, 8, 4, 3, 3, 3, 3, 2, 0, 0}));
  CHECK(cpu::onednn_conv_applies({4, 128, 17, 17, 128, 3, 3, 8, 8, 2, 0, 0}));
  CHECK(cpu::onednn_conv_applies({2, 32, 17, 17, 32, 1, 7, 17, 17, 1, 0, 3}));
  const cpu::ConvPath paths[] = {cpu::ConvPath::native, cpu::ConvPath::onednn_auto,
                                 cpu::ConvPath::onednn_direct};
  uint64_t seed = 1200;
  for (const Shape4& s : shapes) {
    INFO("x [" << s.n << "," << s.ci << "," << s.h << "," << s.h << "] k " << s.k << " stride "
               << s.stride << " pad " << s.pad);
    Tensor x = randn64({s.n, s.ci, s.h, s.h}, seed, 1.0, 0.0, false).to(DType::F32);
    Tensor w = randn64({s.co, s.ci, s.k, s.k}, seed + 1, 0.05, 0.0, false).to(DType::F32);
    Tensor b = randn64({s.co}, seed + 2, 1.0, 0.0, false).to(DType::F32);
    std::vector<std::vector<double>> out[3];
    for (int i = 0; i < 3; ++i) {
      cpu::set_conv_path(paths[i]);
      Tensor xl = leaf(x), wl = leaf(w), bl = leaf(b);
      Tensor y = conv2d(xl, wl, bl, static_cast<int>(s.stride), static_cast<int>(s.pad));
      Tensor r = randn64(y.shape(), seed + 3, 1.0, 0.0, false).to(DType::F32);
      sum(mul(y, r)).backward();
      out[i] = {y.to_vector(), xl.grad().to_vector(), wl.grad().to_vector(),
                bl.grad().to_vector()};
    }
    cpu::set_conv_path(cpu::ConvPath::onednn_auto);
    const char* names[] = {"y", "dx", "dw", "db"};
    for (int p = 1; p < 3; ++p)
      for (int i = 0; i < 4; ++i) {
        INFO("path " << p << " (1 auto, 2 direct)");
        require_close_vec(names[i], out[p][static_cast<size_t>(i)],
                          out[0][static_cast<size_t>(i)], 1e-3, 1e-3);
      }
    seed += 4;
  }
}

// Largest |a - ref| over largest |ref|.
double relative_error(const std::vector<double>& a, const std::vector<double>& ref) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::abs(a[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}

TEST_CASE("conv2d: oneDNN's Winograd convolutions are as accurate as float32 needs", "[conv]") {
  // A 64-channel 3x3 UNet convolution with 256 4x4 output tiles. Where oneDNN runs AVX-512 it
  // takes Winograd F(4x4, 3x3) in all three passes; direct-only must not, nor a convolution with
  // fewer than 32 tiles or 16 input channels (where Winograd is slower). Below AVX-512 (an AVX2
  // CPU, or ONEDNN_MAX_CPU_ISA=AVX2 as the conv_onednn_avx2 test runs this) oneDNN has no
  // Winograd, and s2dm's own takes the layer. Whatever runs, every output stays within float32
  // accuracy of the float64 result.
  const cpu::ConvGeometry g{16, 64, 16, 16, 64, 3, 3, 16, 16, 1, 1, 1};
  const cpu::ConvGeometry few_tiles{7, 64, 8, 8, 64, 3, 3, 8, 8, 1, 1, 1};  // 28 tiles
  const cpu::ConvGeometry enough_tiles{8, 64, 8, 8, 64, 3, 3, 8, 8, 1, 1, 1};  // 32 tiles
  const cpu::ConvGeometry few_channels{16, 16, 16, 16, 64, 3, 3, 16, 16, 1, 1, 1};
  const std::string auto_kernels = cpu::onednn_conv_kernels(g);
  cpu::set_conv_path(cpu::ConvPath::onednn_direct);
  const std::string direct_kernels = cpu::onednn_conv_kernels(g);
  cpu::set_conv_path(cpu::ConvPath::onednn_auto);
  INFO("auto: " << auto_kernels << "; direct: " << direct_kernels);
  // Winograd in each of the three passes (forward | backward data | backward weights).
  auto all_winograd = [](const std::string& kernels) {
    int passes = 0;
    for (size_t at = kernels.find("wino"); at != std::string::npos;
         at = kernels.find("wino", at + 1))
      ++passes;
    return passes == 3;
  };
  CHECK(direct_kernels.find("wino") == std::string::npos);
  CHECK(cpu::onednn_conv_kernels(few_tiles).find("wino") == std::string::npos);
  CHECK(cpu::onednn_conv_kernels(few_channels).find("wino") == std::string::npos);
  INFO("oneDNN ISA " << cpu::onednn_isa() << "; " << cpu::conv_library());
  CHECK(cpu::conv_library().find(" on " + cpu::onednn_isa()) != std::string::npos);
  CHECK(all_winograd(auto_kernels));
  CHECK(all_winograd(cpu::onednn_conv_kernels(enough_tiles)));
  if (cpu::onednn_has_avx512_core()) {
    CHECK(auto_kernels.find("s2dm_wino") == std::string::npos);
  } else {  // s2dm's own Winograd (conv3x3_winograd.h)
    CHECK(auto_kernels == "s2dm_wino_4x3 | s2dm_wino_4x3 | s2dm_wino_4x3");
    CHECK(cpu::conv_library().find("s2dm's Winograd for 3x3 where it pays") != std::string::npos);
  }

  Tensor x = randn64({g.n, g.ci, g.h, g.w}, 1300, 1.0, 0.0, false);
  Tensor w = randn64({g.co, g.ci, 3, 3}, 1301, 0.05, 0.0, false);
  Tensor b = randn64({g.co}, 1302, 1.0, 0.0, false);
  Tensor r = randn64({g.n, g.co, g.ho, g.wo}, 1303, 1.0, 0.0, false);
  auto run = [&](DType dt) {
    Tensor xl = leaf(x.to(dt)), wl = leaf(w.to(dt)), bl = leaf(b.to(dt));
    Tensor y = conv2d(xl, wl, bl, 1, 1);
    sum(mul(y, r.to(dt))).backward();
    return std::vector<std::vector<double>>{y.to_vector(), xl.grad().to_vector(),
                                            wl.grad().to_vector(), bl.grad().to_vector()};
  };
  const auto ref = run(DType::F64), got = run(DType::F32);
  const char* names[] = {"y", "dx", "dw", "db"};
  for (size_t i = 0; i < 4; ++i) {
    INFO(names[i] << " relative error " << relative_error(got[i], ref[i]));
    CHECK(relative_error(got[i], ref[i]) < 2e-5);
  }
}

TEST_CASE("conv2d: oneDNN keeps each forward's reordered input for its own backward", "[conv]") {
  // Several inputs of one geometry in flight at once (as the UNet's repeated blocks are), one
  // of them recomputed after an in-place change, backward in another order than forward: each
  // weight gradient must still see its own input, as on the im2col path.
  const Shape xs{2, 32, 8, 8};
  Tensor w = randn64({32, 32, 3, 3}, 71, 0.1, 0.0, false).to(DType::F32);
  Tensor r = randn64({2, 32, 8, 8}, 72, 1.0, 0.0, false).to(DType::F32);
  std::vector<std::vector<double>> grads[2];
  const int64_t before = cpu::onednn_saved_inputs();
  for (int native = 0; native < 2; ++native) {
    cpu::set_conv_path(native == 1 ? cpu::ConvPath::native : cpu::ConvPath::onednn_auto);
    Tensor a = randn64(xs, 73, 1.0, 0.0, false).to(DType::F32);
    Tensor b = randn64(xs, 74, 1.0, 0.0, false).to(DType::F32);
    Tensor wa = leaf(w), wb = leaf(w), wa2 = leaf(w);
    Tensor ya = conv2d(a, wa, Tensor(), 1, 1);
    Tensor yb = conv2d(b, wb, Tensor(), 1, 1);
    if (native == 0) CHECK(cpu::onednn_saved_inputs() == before + 2);
    a.copy_(randn64(xs, 77, 1.0, 0.0, false).to(DType::F32));  // a forward of the changed a
                                                                 // replaces a's saved copy
    Tensor ya2 = conv2d(a, wa2, Tensor(), 1, 1);
    if (native == 0) CHECK(cpu::onednn_saved_inputs() == before + 2);
    sum(mul(ya2, r)).backward();
    sum(mul(yb, r)).backward();
    grads[native] = {wa2.grad().to_vector(), wb.grad().to_vector()};
    if (native == 0) CHECK(cpu::onednn_saved_inputs() == before);  // both taken by their backward
    {  // a graph dropped without backward: its copy goes once its input is gone
      Tensor tmp = randn64(xs, 75, 1.0, 0.0, false).to(DType::F32);
      Tensor lost = conv2d(tmp, leaf(w), Tensor(), 1, 1);
      if (native == 0) CHECK(cpu::onednn_saved_inputs() == before + 1);
    }
    Tensor c = randn64(xs, 76, 1.0, 0.0, false).to(DType::F32);
    Tensor yc = conv2d(c, leaf(w), Tensor(), 1, 1);
    if (native == 0) CHECK(cpu::onednn_saved_inputs() == before + 1);
    sum(mul(yc, r)).backward();
    if (native == 0) CHECK(cpu::onednn_saved_inputs() == before);
    (void)ya;
  }
  cpu::set_conv_path(cpu::ConvPath::onednn_auto);
  require_close_vec("dw of the recomputed input", grads[0][0], grads[1][0], 1e-3, 1e-3);
  require_close_vec("dw of the other input", grads[0][1], grads[1][1], 1e-3, 1e-3);
}

TEST_CASE("conv2d: gradients are bit-identical across runs", "[conv]") {
  // The weight gradient is reduced over threads in a fixed order, on the im2col path (8 -> 12
  // channels) and on oneDNN's Winograd and direct kernels (64 -> 64).
  struct Case {
    Shape x, w;
  };
  const Case cases[] = {{{7, 8, 15, 13}, {12, 8, 3, 3}}, {{4, 64, 16, 16}, {64, 64, 3, 3}}};
  uint64_t seed = 51;
  for (const Case& c : cases) {
    Tensor x = randn64(c.x, seed, 1.0, 0.0, false).to(DType::F32);
    Tensor w = randn64(c.w, seed + 1, 0.3, 0.0, false).to(DType::F32);
    Tensor r = randn64({c.x[0], c.w[0], c.x[2], c.x[3]}, seed + 2, 1.0, 0.0, false).to(DType::F32);
    seed += 3;
    std::vector<std::vector<double>> grads;
    for (int run = 0; run < 2; ++run) {
      Tensor xl = leaf(x), wl = leaf(w);
      sum(mul(conv2d(xl, wl, Tensor(), 1, 1), r)).backward();
      grads.push_back(wl.grad().to_vector());
      grads.push_back(xl.grad().to_vector());
    }
    CHECK(grads[0] == grads[2]);
    CHECK(grads[1] == grads[3]);
  }
}

TEST_CASE("conv2d: bad inputs throw s2dm::Error", "[conv]") {
  Tensor x = Tensor::zeros({2, 3, 8, 8});
  Tensor w = Tensor::zeros({4, 3, 3, 3});
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 5, 3, 3})),
                    Catch::Contains("3 channels") && Catch::Contains("[4, 5, 3, 3]") &&
                        Catch::Contains("[2, 3, 8, 8]"));
  CHECK_THROWS_WITH(conv2d(Tensor::zeros({3, 8, 8}), w), Catch::Contains("4-D"));
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 3, 3})), Catch::Contains("4-D"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 0), Catch::Contains("stride"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, -1), Catch::Contains("padding"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, 1, -2), Catch::Contains("padding must be >= 0"));
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 3, 1, 11}), Tensor(), 1, 0, 1),
                    Catch::Contains("larger than the padded input 8x10"));
  CHECK_NOTHROW(conv2d(x, Tensor::zeros({4, 3, 1, 11}), Tensor(), 1, 0, 2));  // 8x12 padded
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 3, 9, 3})), Catch::Contains("larger than"));
  CHECK_NOTHROW(conv2d(x, Tensor::zeros({4, 3, 9, 3}), Tensor(), 1, 1));  // 10x10 padded
  CHECK_THROWS_WITH(conv2d(x, w, Tensor::zeros({3})), Catch::Contains("bias"));
  CHECK_THROWS_WITH(conv2d(x, w.to(DType::F64)), Catch::Contains("dtype"));
  CHECK_THROWS_AS(conv2d(x.to(DType::BF16), w.to(DType::BF16)), Error);
  CHECK_THROWS_AS(conv2d(x, Tensor::zeros({0, 3, 3, 3})), Error);
  CHECK_THROWS_AS(conv2d(Tensor(), w), Error);
}

TEST_CASE("conv2d: an empty batch gives an empty output and zero weight gradients", "[conv]") {
  Tensor x = leaf(Tensor::zeros({0, 3, 6, 6}, DType::F64));
  Tensor w = leaf(Tensor::ones({4, 3, 3, 3}, DType::F64));
  Tensor b = leaf(Tensor::ones({4}, DType::F64));
  Tensor y = conv2d(x, w, b, 2, 1);
  CHECK(y.shape() == Shape{0, 4, 3, 3});
  sum(y).backward();
  CHECK(w.grad().to_vector() == std::vector<double>(108, 0.0));
  CHECK(b.grad().to_vector() == std::vector<double>(4, 0.0));
  CHECK(x.grad().shape() == Shape{0, 3, 6, 6});
}

TEST_CASE("conv2d: PyTorch parity, float64", "[conv][golden]") {
  // name -> (stride, padding on H, on W, bias); shapes come from the files (see gen_conv.py).
  const std::vector<std::tuple<std::string, int, int, int, bool>> cases = {
      {"k3_s1_p1", 1, 1, 1, true},      {"k3_s2_p0_odd", 2, 0, 0, true},
      {"k1_nobias", 1, 0, 0, false},    {"k3_s2_p1_down", 2, 1, 1, true},
      {"k2x3_s2_p1", 2, 1, 1, true},    {"k1x7_p0x3", 1, 0, 3, true},
      {"k7x1_p3x0", 1, 3, 0, false},    {"k3x5_s2_p2x1", 2, 2, 1, true},
  };
  for (const auto& [name, stride, pad_h, pad_w, has_bias] : cases) {
    INFO(name);
    Tensor x = leaf(golden(name + "_x")), w = leaf(golden(name + "_w"));
    Tensor b = has_bias ? leaf(golden(name + "_b")) : Tensor();
    Tensor y = conv2d(x, w, b, stride, pad_h, pad_w);
    test::require_close(name + " y", y, golden(name + "_y"), 1e-12, 1e-12);
    sum(mul(y, golden(name + "_r"))).backward();
    test::require_close(name + " dx", x.grad(), golden(name + "_dx"), 1e-12, 1e-12);
    test::require_close(name + " dw", w.grad(), golden(name + "_dw"), 1e-12, 1e-12);
    if (has_bias) test::require_close(name + " db", b.grad(), golden(name + "_db"), 1e-12, 1e-12);
  }
}

namespace {

// The integer formula of gen_conv.py: ((i * mult) % mod) / (mod / 2) - 1, times scale.
Tensor formula(const Shape& shape, int64_t mult, int64_t mod, double scale) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    const auto k = static_cast<int64_t>(i);
    v[i] = (static_cast<double>((k * mult) % mod) / (static_cast<double>(mod) / 2.0) - 1.0) * scale;
  }
  return Tensor::from_vector(v, shape, DType::F64).to(DType::F32);
}

// Every `stride`-th element of t, flattened (the subsampling gen_conv.py stores).
Tensor every(const Tensor& t, int64_t stride) {
  const std::vector<double> v = t.to_vector();
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); i += static_cast<size_t>(stride)) out.push_back(v[i]);
  return Tensor::from_vector(out, {static_cast<int64_t>(out.size())}, DType::F64);
}

}  // namespace

TEST_CASE("conv2d: PyTorch parity, float32 at a UNet shape", "[conv][golden]") {
  // N=2, 64->64, 16x16, 3x3, padding 1, computed by PyTorch in float32.
  Tensor x = leaf(formula({2, 64, 16, 16}, 7919, 2003, 1.0));
  Tensor w = leaf(formula({64, 64, 3, 3}, 104729, 1009, 0.05));
  Tensor b = leaf(formula({64}, 13, 17, 0.5));
  Tensor r = formula({2, 64, 16, 16}, 31337, 997, 1.0);
  Tensor y = conv2d(x, w, b, 1, 1);
  REQUIRE(y.dtype() == DType::F32);
  // Float32 rounding differs between the two GEMM orders; |y| <= 1.4, |dw| <= 16 here.
  test::require_close("unet y", every(y, 7), golden("unet_f32_y").to(DType::F64), 1e-5, 1e-5);
  sum(mul(y, r)).backward();
  test::require_close("unet dx", every(x.grad(), 7), golden("unet_f32_dx").to(DType::F64), 1e-5,
                      1e-5);
  test::require_close("unet dw", every(w.grad(), 5), golden("unet_f32_dw").to(DType::F64), 1e-4,
                      1e-5);
  test::require_close("unet db", b.grad(), golden("unet_f32_db").to(DType::F64), 1e-4, 1e-5);
}
