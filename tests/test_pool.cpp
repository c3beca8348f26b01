// max_pool2d and avg_pool2d: hand-computed values, PyTorch's tie, NaN and padding rules, float64
// gradient checks, errors, and parity with PyTorch (tests/golden/gen_pool.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"
#include "tests/golden_parity.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::check_gradients;
using test::check_parity;
using test::f64;
using test::f64_leaf;
using test::randn64;

namespace {

Pool2dParams window(int kh, int kw, int sh, int sw, int ph, int pw, bool include_pad = true) {
  Pool2dParams p;
  p.kh = kh, p.kw = kw, p.stride_h = sh, p.stride_w = sw, p.pad_h = ph, p.pad_w = pw;
  p.count_include_pad = include_pad;
  return p;
}

// 1..16 as a 4x4 image.
std::vector<double> one_to_16() {
  std::vector<double> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i + 1);
  return v;
}

}  // namespace

// ---------------------------------------------------------------- max_pool2d

TEST_CASE("max_pool2d: values and the gradient to each window's maximum", "[pool]") {
  Tensor x = f64_leaf(one_to_16(), {1, 1, 4, 4});
  Tensor y = max_pool2d(x, 2, 2);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == std::vector<double>{6, 8, 14, 16});
  y.backward(f64({1, 2, 3, 4}, {1, 1, 2, 2}));
  CHECK(x.grad().to_vector() ==
        std::vector<double>{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4});

  // Overlapping windows (3x3, stride 1) that share a maximum sum their gradients into it.
  Tensor x2 = f64_leaf(one_to_16(), {1, 1, 4, 4});
  Tensor y2 = max_pool2d(x2, 3, 1);
  CHECK(y2.to_vector() == std::vector<double>{11, 12, 15, 16});
  sum(y2).backward();
  CHECK(x2.grad().to_vector() ==
        std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1});
}

TEST_CASE("max_pool2d: padding never wins", "[pool]") {
  // All-negative input: implicit zero padding would win every border window if it were read.
  std::vector<double> v = one_to_16();
  for (double& e : v) e = -e;
  Tensor x = f64_leaf(v, {1, 1, 4, 4});
  Tensor y = max_pool2d(x, 3, 2, 1);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == std::vector<double>{-1, -2, -5, -6});
  sum(y).backward();
  CHECK(x.grad().to_vector() ==
        std::vector<double>{1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d: ties, -inf and NaN as PyTorch", "[pool]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (DType dt : {DType::F64, DType::F32}) {
    INFO(dtype_name(dt));
    auto grad_of = [&](const std::vector<double>& v, const Shape& s, int k, int stride,
                       std::vector<double>* out) {
      Tensor x = test::leaf(f64(v, s).to(dt));
      Tensor y = max_pool2d(x, k, stride);
      *out = y.to_vector();
      sum(y).backward();
      return x.grad().to_vector();
    };
    std::vector<double> y;
    // PyTorch 1.13: F.max_pool2d(x, 2, 1) of [[1, 3, 3], [3, 0, 3]] is [[3, 3]] and the gradient
    // goes to the first 3 of each window, the shared x[0, 1], twice.
    CHECK(grad_of({1, 3, 3, 3, 0, 3}, {1, 1, 2, 3}, 2, 1, &y) ==
          std::vector<double>{0, 2, 0, 0, 0, 0});
    CHECK(y == std::vector<double>{3, 3});
    // A window of -inf gives -inf and its first element takes the gradient.
    CHECK(grad_of({-inf, -inf, -inf, -inf}, {1, 1, 2, 2}, 2, 2, &y) ==
          std::vector<double>{1, 0, 0, 0});
    CHECK(y == std::vector<double>{-inf});
    // NaN propagates and the last NaN in scan order takes the gradient (PyTorch 1.13:
    // [[1, nan], [2, nan]] -> grad [[0, 0], [0, 1]]; [[nan, 1], [nan, 5]] -> [[0, 0], [1, 0]]).
    CHECK(grad_of({1, nan, 2, nan}, {1, 1, 2, 2}, 2, 2, &y) == std::vector<double>{0, 0, 0, 1});
    CHECK(std::isnan(y[0]));
    CHECK(grad_of({nan, 1, nan, 5}, {1, 1, 2, 2}, 2, 2, &y) == std::vector<double>{0, 0, 1, 0});
    CHECK(std::isnan(y[0]));
  }
}

TEST_CASE("max_pool2d: float64 gradient checks", "[pool][grad]") {
  struct Case {
    Shape shape;
    Pool2dParams p;
  };
  const std::vector<Case> cases = {
      {{2, 3, 9, 11}, window(3, 3, 2, 2, 0, 0)},  // Inception's stride-2 pool
      {{1, 2, 5, 7}, window(3, 3, 1, 1, 1, 1)},   // overlapping windows with padding
      {{2, 1, 7, 6}, window(2, 3, 2, 1, 1, 1)},   // anisotropic window and stride
      {{1, 1, 1, 1}, window(1, 1, 1, 1, 0, 0)},
      {{1, 2, 4, 5}, window(4, 2, 3, 2, 2, 1)},  // padding of half the window
  };
  uint64_t seed = 3000;
  for (const Case& c : cases) {
    const Pool2dParams p = c.p;
    check_gradients("max_pool2d " + shape_str(c.shape),
                    [p](const auto& in) { return max_pool2d(in[0], p); },
                    {randn64(c.shape, seed++)});
  }
  // A non-contiguous input is copied first.
  check_gradients("max_pool2d of a permuted view",
                  [](const auto& in) {
                    return max_pool2d(in[0].permute({0, 1, 3, 2}), 3, 2);
                  },
                  {randn64({2, 2, 7, 5}, 3100)});
}

// ---------------------------------------------------------------- avg_pool2d

TEST_CASE("avg_pool2d: values, and count_include_pad at the borders", "[pool]") {
  Tensor x = f64_leaf(one_to_16(), {1, 1, 4, 4});
  Tensor y = avg_pool2d(x, 2, 2);
  CHECK(y.to_vector() == std::vector<double>{3.5, 5.5, 11.5, 13.5});
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<double>(16, 0.25));

  // 3x3, stride 1, padding 1: the corner window holds 1, 2, 5, 6 and five padding zeros.
  Tensor fid = avg_pool2d(x.detach(), 3, 1, 1, /*count_include_pad=*/false);
  Tensor tv = avg_pool2d(x.detach(), 3, 1, 1, /*count_include_pad=*/true);
  REQUIRE(fid.shape() == Shape{1, 1, 4, 4});
  CHECK(fid.to_vector()[0] == 14.0 / 4);  // over the 4 input elements
  CHECK(tv.to_vector()[0] == 14.0 / 9);   // over the 9 window positions
  CHECK(fid.to_vector()[1] == 24.0 / 6);  // top edge: 1, 2, 3, 5, 6, 7
  CHECK(tv.to_vector()[5] == 54.0 / 9);   // interior: the same either way
  CHECK(fid.to_vector()[5] == 54.0 / 9);
  // Without count_include_pad a constant image stays constant up to its borders.
  Tensor ones = Tensor::ones({1, 2, 5, 3}, DType::F64);
  CHECK(avg_pool2d(ones, 3, 1, 1, false).to_vector() == std::vector<double>(30, 1.0));

  // Backward: each input receives dy / divisor from every window that covers it. The corner
  // pixel of the 4x4 image is covered by 4 windows: the corner (divisor 4), two edges (6) and
  // one interior (9).
  Tensor x2 = f64_leaf(one_to_16(), {1, 1, 4, 4});
  sum(avg_pool2d(x2, 3, 1, 1, false)).backward();
  CHECK(x2.grad().to_vector()[0] == Approx(1.0 / 4 + 2.0 / 6 + 1.0 / 9).epsilon(1e-15));
}

TEST_CASE("avg_pool2d: float64 gradient checks", "[pool][grad]") {
  struct Case {
    Shape shape;
    Pool2dParams p;
  };
  const std::vector<Case> cases = {
      {{2, 3, 7, 6}, window(3, 3, 1, 1, 1, 1, false)},  // pytorch-fid's FID pool
      {{2, 3, 7, 6}, window(3, 3, 1, 1, 1, 1, true)},   // torchvision's
      {{1, 2, 8, 5}, window(3, 2, 2, 1, 1, 1, false)}, {{3, 1, 5, 9}, window(2, 2, 2, 2, 0, 0)},
      {{1, 1, 3, 3}, window(3, 3, 3, 3, 1, 1, false)},
  };
  uint64_t seed = 3200;
  for (const Case& c : cases) {
    const Pool2dParams p = c.p;
    check_gradients("avg_pool2d " + shape_str(c.shape),
                    [p](const auto& in) { return avg_pool2d(in[0], p); },
                    {randn64(c.shape, seed++)});
  }
}

// ---------------------------------------------------------------- both

TEST_CASE("pooling: the threaded path matches small calls", "[pool]") {
  // 4·16·35·35 inputs, above the OpenMP threshold; each plane pooled alone must agree.
  Tensor x = randn64({4, 16, 35, 35}, 3300, 1.0, 0.0, false).to(DType::F32);
  const Tensor ym = max_pool2d(x, 3, 2), ya = avg_pool2d(x, 3, 1, 1, false);
  for (int64_t n : {0, 3}) {
    for (int64_t c : {0, 9, 15}) {
      Tensor plane = x.slice(0, n, n + 1).slice(1, c, c + 1);
      CHECK(max_pool2d(plane, 3, 2).to_vector() ==
            ym.slice(0, n, n + 1).slice(1, c, c + 1).to_vector());
      CHECK(avg_pool2d(plane, 3, 1, 1, false).to_vector() ==
            ya.slice(0, n, n + 1).slice(1, c, c + 1).to_vector());
    }
  }
}

TEST_CASE("pooling: errors", "[pool]") {
  Tensor x = Tensor::zeros({1, 2, 5, 5});
  CHECK_THROWS_WITH(max_pool2d(Tensor::zeros({2, 5, 5}), 2, 2), Catch::Contains("4-D"));
  CHECK_THROWS_WITH(avg_pool2d(x, 0, 1), Catch::Contains("at least 1x1"));
  CHECK_THROWS_WITH(max_pool2d(x, 3, 0), Catch::Contains("stride"));
  CHECK_THROWS_WITH(max_pool2d(x, 3, 1, 2), Catch::Contains("half the kernel"));
  CHECK_THROWS_WITH(avg_pool2d(x, 2, 1, -1), Catch::Contains("half the kernel"));
  CHECK_THROWS_WITH(max_pool2d(x, 6, 1), Catch::Contains("larger than the input"));
  CHECK_NOTHROW(max_pool2d(x, 6, 1, 1));  // 7x7 padded
  CHECK_THROWS_WITH(avg_pool2d(x.to(DType::BF16), 2, 2), Catch::Contains("bfloat16"));
  CHECK_THROWS_AS(max_pool2d(Tensor(), 2, 2), Error);
}

TEST_CASE("pooling matches PyTorch", "[pool][golden]") {
  auto run = [](const std::string& name, Pool2dParams p, bool max) {
    check_parity(
        name, 1,
        [p, max](const auto& in) { return max ? max_pool2d(in[0], p) : avg_pool2d(in[0], p); },
        1e-6, 1e-6, "pool");
  };
  run("max_k3s2", window(3, 3, 2, 2, 0, 0), true);
  run("max_k3s1p1", window(3, 3, 1, 1, 1, 1), true);
  run("max_aniso", window(2, 3, 2, 1, 1, 1), true);
  run("max_ties", window(3, 3, 1, 1, 1, 1), true);
  run("avg_fid", window(3, 3, 1, 1, 1, 1, false), false);
  run("avg_tv", window(3, 3, 1, 1, 1, 1, true), false);
  run("avg_aniso", window(3, 2, 2, 1, 1, 1, false), false);
  run("avg_k2s2", window(2, 2, 2, 2, 0, 0), false);
}
