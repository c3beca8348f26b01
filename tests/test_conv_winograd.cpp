// s2dm's Winograd F(m×m, 3×3) kernels (engine/cpu/conv3x3_winograd.h): float64 agreement with
// the im2col convolution (itself gradient-checked in test_conv.cpp) on shapes that reach every
// edge case, float32 accuracy at UNet shapes, independence of the thread count, and where the
// CPU backend runs them.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/cpu/conv3x3_winograd.h"
#include "engine/cpu/conv_onednn.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::leaf;
using test::randn64;

namespace {

// Largest |a - ref| over largest |ref|.
double max_relative_error(const std::vector<double>& a, const std::vector<double>& ref) {
  REQUIRE(a.size() == ref.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::abs(a[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}

// y, dx, dw, db of conv2d(x, w, b, stride 1, padding 1) under the loss sum(y · r), through the
// ops in x's dtype on the current convolution path.
std::vector<std::vector<double>> conv_and_grads(const Tensor& x, const Tensor& w, const Tensor& b,
                                                const Tensor& r) {
  Tensor xl = leaf(x), wl = leaf(w), bl = leaf(b);
  Tensor y = conv2d(xl, wl, bl, 1, 1);
  sum(mul(y, r)).backward();
  return {y.to_vector(), xl.grad().to_vector(), wl.grad().to_vector(), bl.grad().to_vector()};
}

// The same through the Winograd kernels directly.
template <typename T>
std::vector<std::vector<double>> winograd_and_grads(int m, const Tensor& x, const Tensor& w,
                                                    const Tensor& b, const Tensor& r) {
  const cpu::Conv3x3Shape s{x.size(0), x.size(1), w.size(0), x.size(2), x.size(3)};
  const DType dt = std::is_same_v<T, float> ? DType::F32 : DType::F64;
  Tensor xc = x.to(dt).contiguous(), wc = w.to(dt).contiguous(), bc = b.to(dt).contiguous();
  Tensor rc = r.to(dt).contiguous();
  Tensor y = Tensor::zeros({s.n, s.co, s.h, s.w}, dt), dx = Tensor::zeros(x.shape(), dt);
  Tensor dw = Tensor::zeros(w.shape(), dt);
  cpu::winograd_conv3x3_forward<T>(m, s, xc.data<T>(), wc.data<T>(), bc.data<T>(), y.data<T>());
  cpu::winograd_conv3x3_input_grad<T>(m, s, wc.data<T>(), rc.data<T>(), dx.data<T>());
  cpu::winograd_conv3x3_weight_grad<T>(m, s, xc.data<T>(), rc.data<T>(), dw.data<T>());
  return {y.to_vector(), dx.to_vector(), dw.to_vector()};
}

const char* kNames[] = {"y", "dx", "dw", "db"};

}  // namespace

TEST_CASE("winograd: float64 kernels agree with the im2col convolution", "[conv][winograd]") {
  // Images that are not whole tiles, rows of more tiles than one lane group (70 wide), channel
  // counts that are not whole lane groups, single pixels and channels, more output channels
  // than one GEMM row block (130), 16 tiles a row (64x64), and more tiles than one pass takes
  // (60 x 150->160 at 6x5: two passes of whole tile rows for either m, each row a partial tile
  // wide and the last tile row partial, 150 channels a partial lane group).
  const cpu::Conv3x3Shape shapes[] = {{2, 5, 19, 7, 9},  {1, 17, 3, 5, 70}, {3, 32, 33, 8, 8},
                                      {1, 1, 1, 1, 1},   {2, 3, 130, 6, 4}, {1, 2, 2, 2, 35},
                                      {8, 6, 5, 64, 64}, {60, 150, 160, 6, 5}};
  uint64_t seed = 900;
  for (const auto& s : shapes)
    for (int m : {2, 4}) {
      INFO("m " << m << " x [" << s.n << "," << s.ci << "," << s.h << "," << s.w << "] -> "
                << s.co);
      Tensor x = randn64({s.n, s.ci, s.h, s.w}, seed, 1.0, 0.0, false);
      Tensor w = randn64({s.co, s.ci, 3, 3}, seed + 1, 0.3, 0.0, false);
      Tensor b = randn64({s.co}, seed + 2, 1.0, 0.0, false);
      Tensor r = randn64({s.n, s.co, s.h, s.w}, seed + 3, 1.0, 0.0, false);
      seed += 4;
      const auto ref = conv_and_grads(x, w, b, r);
      const auto got = winograd_and_grads<double>(m, x, w, b, r);
      for (size_t i = 0; i < got.size(); ++i) {
        INFO(kNames[i] << " relative error " << max_relative_error(got[i], ref[i]));
        CHECK(max_relative_error(got[i], ref[i]) < 1e-12);
      }
    }
}

TEST_CASE("winograd: float32 at UNet shapes is as accurate as float32 needs", "[conv][winograd]") {
  // Errors measured against float64, as a fraction of the largest value: half the bound oneDNN's
  // own Winograd kernels are held to (test_conv.cpp). m = 4 measured up to 4.2e-6, m = 2 1e-6;
  // the textbook points 0, ±1, ±2 for m = 4 reached 1.8e-5.
  const cpu::Conv3x3Shape shapes[] = {{4, 128, 128, 32, 32}, {4, 256, 256, 16, 16},
                                      {16, 64, 64, 16, 16},  {32, 64, 64, 28, 28}};
  uint64_t seed = 950;
  for (const auto& s : shapes) {
    Tensor x = randn64({s.n, s.ci, s.h, s.w}, seed, 1.0, 0.0, false);
    Tensor w = randn64({s.co, s.ci, 3, 3}, seed + 1, 0.05, 0.0, false);
    Tensor b = randn64({s.co}, seed + 2, 1.0, 0.0, false);
    Tensor r = randn64({s.n, s.co, s.h, s.w}, seed + 3, 1.0, 0.0, false);
    seed += 4;
    const auto ref = conv_and_grads(x, w, b, r);
    for (int m : {2, 4}) {
      INFO("m " << m << " x [" << s.n << "," << s.ci << "," << s.h << "," << s.w << "] -> "
                << s.co);
      const auto got = winograd_and_grads<float>(m, x, w, b, r);
      for (size_t i = 0; i < got.size(); ++i) {
        INFO(kNames[i] << " relative error " << max_relative_error(got[i], ref[i]));
        CHECK(max_relative_error(got[i], ref[i]) < 1e-5);
      }
    }
  }
}

TEST_CASE("winograd: results do not depend on the thread count", "[conv][winograd]") {
  // Two GEMM row blocks; 360 tiles of 4x4 in three passes, 1440 of 2x2 in six.
  const cpu::Conv3x3Shape s{6, 40, 200, 24, 40};
  Tensor x = randn64({s.n, s.ci, s.h, s.w}, 990, 1.0, 0.0, false);
  Tensor w = randn64({s.co, s.ci, 3, 3}, 991, 0.1, 0.0, false);
  Tensor b = randn64({s.co}, 992, 1.0, 0.0, false);
  Tensor r = randn64({s.n, s.co, s.h, s.w}, 993, 1.0, 0.0, false);
  const int threads = omp_get_max_threads();
  for (int m : {2, 4}) {
    omp_set_num_threads(1);
    const auto one = winograd_and_grads<float>(m, x, w, b, r);
    omp_set_num_threads(3);
    const auto three = winograd_and_grads<float>(m, x, w, b, r);
    omp_set_num_threads(threads);
    for (size_t i = 0; i < one.size(); ++i) {
      INFO("m " << m << " " << kNames[i]);
      CHECK(one[i] == three[i]);
    }
  }
}

TEST_CASE("winograd: where it pays, and the backend runs it", "[conv][winograd]") {
  // The rule: 64 channels either side and 32 4x4 output tiles.
  CHECK(cpu::winograd_tile({8, 64, 64, 8, 8}) == 4);     // 32 tiles
  CHECK(cpu::winograd_tile({7, 64, 64, 8, 8}) == 0);     // 28
  CHECK(cpu::winograd_tile({2, 64, 256, 15, 16}) == 4);  // 32, a partial tile row
  CHECK(cpu::winograd_tile({32, 32, 64, 32, 32}) == 0);  // 32 input channels
  CHECK(cpu::winograd_tile({32, 64, 32, 32, 32}) == 0);  // 32 output channels

  // On S2DM_CONV=s2dm-winograd conv2d is these kernels, bit for bit, on any ISA; a layer that
  // is not 3x3 stride-1 padding-1 stays where it was.
  const cpu::Conv3x3Shape s{2, 24, 40, 9, 11};
  Tensor x = randn64({s.n, s.ci, s.h, s.w}, 995, 1.0, 0.0, false).to(DType::F32);
  Tensor w = randn64({s.co, s.ci, 3, 3}, 996, 0.1, 0.0, false).to(DType::F32);
  Tensor b = randn64({s.co}, 997, 1.0, 0.0, false).to(DType::F32);
  Tensor r = randn64({s.n, s.co, s.h, s.w}, 998, 1.0, 0.0, false).to(DType::F32);
  cpu::set_conv_path(cpu::ConvPath::s2dm_winograd);
  const auto got = conv_and_grads(x, w, b, r);
  const cpu::ConvGeometry g{s.n, s.ci, s.h, s.w, s.co, 3, 3, s.h, s.w, 1, 1, 1};
  const cpu::ConvGeometry strided{s.n, s.ci, s.h, s.w, s.co, 3, 3, 4, 5, 2, 0, 0};
  CHECK(cpu::onednn_conv_kernels(g) == "s2dm_wino_4x3 | s2dm_wino_4x3 | s2dm_wino_4x3");
  CHECK(cpu::onednn_conv_kernels(strided).find("wino") == std::string::npos);
  CHECK(cpu::conv_library().find("S2DM_CONV=s2dm-winograd") != std::string::npos);
  cpu::set_conv_path(cpu::ConvPath::onednn_auto);
  const auto want = winograd_and_grads<float>(4, x, w, b, r);
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(kNames[i]);
    CHECK(got[i] == want[i]);
  }
}
