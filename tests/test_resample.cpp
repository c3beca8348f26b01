// Nearest 2x upsample, constant pad and bilinear resize: hand-computed values, float64 gradient
// checks, error messages, and parity with PyTorch (tests/golden/gen_resample.py).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"
#include "tests/golden_parity.h"

using namespace s2dm;
using test::check_gradients;
using test::check_parity;
using test::f64;
using test::f64_leaf;
using test::randn64;


// ---------------------------------------------------------------- upsample

TEST_CASE("upsample_nearest2x: values and block-sum backward", "[resample]") {
  Tensor x = f64_leaf({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = upsample_nearest2x(x);
  CHECK(y.shape() == Shape{1, 1, 4, 4});
  CHECK(y.to_vector() ==
        std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Each input gradient is the sum of its 2x2 block of the seed 0..15.
  y.backward(Tensor::arange(16, DType::F64).reshape({1, 1, 4, 4}));
  CHECK(x.grad().to_vector() == std::vector<double>{10, 18, 42, 50});

  Tensor xf = Tensor::from_vector(std::vector<float>{-1.5f, 2.25f}, {1, 2, 1, 1});
  CHECK(upsample_nearest2x(xf).dtype() == DType::F32);
  CHECK(upsample_nearest2x(xf).to_vector() ==
        std::vector<double>{-1.5, -1.5, -1.5, -1.5, 2.25, 2.25, 2.25, 2.25});
}

TEST_CASE("upsample_nearest2x: gradient checks with odd sizes", "[resample][grad]") {
  int seed = 100;
  for (const Shape& s :
       {Shape{1, 3, 5, 7}, Shape{2, 2, 4, 4}, Shape{1, 1, 1, 1}, Shape{2, 1, 3, 1}}) {
    check_gradients("upsample " + shape_str(s),
                    [](const auto& in) { return upsample_nearest2x(in[0]); }, {randn64(s, seed++)});
  }
  // A non-contiguous input goes through the same path after a copy.
  check_gradients("upsample of a permuted view",
                  [](const auto& in) { return upsample_nearest2x(in[0].permute({0, 1, 3, 2})); },
                  {randn64({2, 3, 4, 5}, 110)});
}

TEST_CASE("upsample_nearest2x and pad2d: the threaded path matches the definition", "[resample]") {
  // 2·8·32·32 inputs -> 65536 upsampled outputs, above the OpenMP threshold.
  Generator g(7);
  Tensor x = randn({2, 8, 32, 32}, g, DType::F32);
  const auto xv = x.to_vector();
  const auto yv = upsample_nearest2x(x).to_vector();
  size_t bad = 0;
  for (int64_t p = 0; p < 16; ++p)
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < 64; ++j)
        bad += yv[static_cast<size_t>((p * 64 + i) * 64 + j)] !=
               xv[static_cast<size_t>((p * 32 + i / 2) * 32 + j / 2)];
  CHECK(bad == 0);

  Tensor big = randn({4, 8, 40, 30}, g, DType::F64);
  const auto bv = big.to_vector();
  const auto pv = pad2d(big, 3, 2, 1, 4, -2.0).to_vector();  // -> [4, 8, 45, 35]
  bad = 0;
  for (int64_t p = 0; p < 32; ++p)
    for (int64_t i = 0; i < 45; ++i)
      for (int64_t j = 0; j < 35; ++j) {
        const int64_t si = i - 1, sj = j - 3;
        const double want = (si >= 0 && si < 40 && sj >= 0 && sj < 30)
                                ? bv[static_cast<size_t>((p * 40 + si) * 30 + sj)]
                                : -2.0;
        bad += pv[static_cast<size_t>((p * 45 + i) * 35 + j)] != want;
      }
  CHECK(bad == 0);
}

TEST_CASE("upsample_nearest2x: errors", "[resample]") {
  CHECK_THROWS_WITH(upsample_nearest2x(Tensor::zeros({2, 3, 4}, DType::F64)),
                    Catch::Contains("4-D"));
  CHECK_THROWS_WITH(upsample_nearest2x(Tensor::zeros({1, 1, 2, 2}).to(DType::BF16)),
                    Catch::Contains("bfloat16"));
}

// ---------------------------------------------------------------- pad

TEST_CASE("pad2d: values and cropping backward", "[resample]") {
  Tensor x = f64_leaf({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = pad2d(x, 1, 0, 0, 1, -1.0);
  CHECK(y.shape() == Shape{1, 1, 3, 3});
  CHECK(y.to_vector() == std::vector<double>{-1, 1, 2, -1, 3, 4, -1, -1, -1});
  y.backward(Tensor::arange(9, DType::F64).reshape({1, 1, 3, 3}));
  CHECK(x.grad().to_vector() == std::vector<double>{1, 2, 4, 5});

  // The UNet downsample pad: one zero column on the right and one zero row at the bottom.
  Tensor d = pad2d(f64({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3}), 0, 1, 0, 1);
  CHECK(d.to_vector() == std::vector<double>{1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0});

  // Any rank >= 2 pads its last two dims.
  Tensor m = pad2d(f64({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 1, 1, 0, 9.0);
  CHECK(m.shape() == Shape{3, 4});
  CHECK(m.to_vector() == std::vector<double>{9, 9, 9, 9, 1, 2, 3, 9, 4, 5, 6, 9});
  CHECK(pad2d(Tensor::zeros({2, 3, 1, 4, 5}), 1, 1, 2, 2).shape() == Shape{2, 3, 1, 8, 7});

  Tensor xf = Tensor::from_vector(std::vector<float>{0.5f}, {1, 1, 1, 1});
  CHECK(pad2d(xf, 1, 1, 0, 0, 0.25).to_vector() == std::vector<double>{0.25, 0.5, 0.25});
}

TEST_CASE("pad2d: gradient checks with asymmetric pads", "[resample][grad]") {
  Tensor a = randn64({2, 3, 5, 7}, 200);
  check_gradients("pad (0,1,0,1)", [](const auto& in) { return pad2d(in[0], 0, 1, 0, 1); }, {a});
  Tensor b = randn64({1, 2, 4, 3}, 201);
  check_gradients("pad (2,1,3,0) value 0.5",
                  [](const auto& in) { return pad2d(in[0], 2, 1, 3, 0, 0.5); }, {b});
  check_gradients("pad (0,0,0,0)", [](const auto& in) { return pad2d(in[0], 0, 0, 0, 0); }, {b});
  check_gradients("pad of a 3-D tensor",
                  [](const auto& in) { return pad2d(in[0], 1, 2, 0, 3, -1.0); },
                  {randn64({3, 2, 5}, 202)});
}

TEST_CASE("pad2d: errors", "[resample]") {
  Tensor x = Tensor::zeros({1, 1, 2, 2}, DType::F64);
  CHECK_THROWS_WITH(pad2d(x, -1, 0, 0, 0), Catch::Contains("non-negative"));
  CHECK_THROWS_WITH(pad2d(x, 0, 0, 0, -2), Catch::Contains("non-negative"));
  CHECK_THROWS_WITH(pad2d(Tensor::zeros({4}, DType::F64), 1, 1, 1, 1), Catch::Contains("2-D"));
}

// ---------------------------------------------------------------- bilinear resize

TEST_CASE("upsample_bilinear2d: values and the transposed backward", "[resample]") {
  // PyTorch 1.13: F.interpolate(arange(6.).reshape(1, 1, 2, 3), size=(3, 2), mode="bilinear",
  // align_corners=False) = [[0.25, 1.75], [1.75, 3.25], [3.25, 4.75]]: rows at source 0 (clamped),
  // 0.5 and 1.17 (past the last row: clamped to it), columns at 0.25 and 1.75.
  Tensor x = f64_leaf({0, 1, 2, 3, 4, 5}, {1, 1, 2, 3});
  Tensor y = upsample_bilinear2d(x, 3, 2);
  REQUIRE(y.shape() == Shape{1, 1, 3, 2});
  const std::vector<double> expected{0.25, 1.75, 1.75, 3.25, 3.25, 4.75};
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(y.to_vector()[i] == Approx(expected[i]).epsilon(1e-15));
  // Backward spreads each gradient over the taps with the same weights: with a one-hot seed on
  // output (1, 0) (rows 0 and 1 at 1/2 each, columns 0 and 1 at 3/4 and 1/4).
  y.backward(f64({0, 0, 1, 0, 0, 0}, {1, 1, 3, 2}));
  const std::vector<double> dx{0.375, 0.125, 0, 0.375, 0.125, 0};
  for (size_t i = 0; i < dx.size(); ++i)
    CHECK(x.grad().to_vector()[i] == Approx(dx[i]).epsilon(1e-15).margin(1e-15));

  // The same size is a copy; a 1x1 input is a constant.
  Tensor r = randn64({2, 3, 5, 4}, 300, 1.0, 0.0, false);
  CHECK(upsample_bilinear2d(r, 5, 4).to_vector() == r.to_vector());
  CHECK(upsample_bilinear2d(f64({2.5}, {1, 1, 1, 1}), 3, 4).to_vector() ==
        std::vector<double>(12, 2.5));
}

TEST_CASE("upsample_bilinear2d: 32x32 to 299x299 as pytorch-fid resizes", "[resample]") {
  // An affine image a[i][j] = 32 i + j is reproduced exactly in the interior, at the source
  // coordinates (d + 0.5)·32/299 − 0.5 (clamped at 0 and at 31).
  std::vector<float> a(32 * 32);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  Tensor y = upsample_bilinear2d(Tensor::from_vector(a, {1, 1, 32, 32}), 299, 299);
  REQUIRE(y.shape() == Shape{1, 1, 299, 299});
  REQUIRE(y.dtype() == DType::F32);
  const std::vector<double> v = y.to_vector();
  auto src = [](int64_t d) { return std::clamp((d + 0.5) * 32.0 / 299.0 - 0.5, 0.0, 31.0); };
  for (int64_t i = 0; i < 299; i += 7) {
    for (int64_t j = 0; j < 299; j += 11) {
      CHECK(v[static_cast<size_t>(i * 299 + j)] ==
            Approx(32 * src(i) + src(j)).margin(2e-3).epsilon(0));
    }
  }
  // PyTorch 1.13 in float32 (F.interpolate(a, size=(299, 299), mode="bilinear")).
  CHECK(v[5 * 299 + 150] == Approx(18.44314193725586).epsilon(1e-6));
  CHECK(v[150 * 299 + 7] == Approx(499.7274169921875).epsilon(1e-6));
  CHECK(v[100 * 299 + 200] == Approx(349.1454772949219).epsilon(1e-6));
  CHECK(v[298 * 299 + 298] == 1023.0);
  CHECK(v[297 * 299 + 3] == 992.0);
}

TEST_CASE("upsample_bilinear2d: gradient checks up, down and mixed", "[resample][grad]") {
  struct Case {
    Shape shape;
    int64_t ho, wo;
  };
  const std::vector<Case> cases = {
      {{1, 2, 4, 5}, 9, 13},  // up by non-integer factors
      {{2, 1, 9, 7}, 4, 3},   // down
      {{1, 3, 5, 2}, 8, 1},   // up on H, down to one column on W
      {{2, 2, 3, 3}, 3, 3},   // the same size
      {{1, 1, 1, 1}, 2, 3},   // one pixel
  };
  uint64_t seed = 310;
  for (const Case& c : cases) {
    const int64_t ho = c.ho, wo = c.wo;
    check_gradients("upsample_bilinear2d " + shape_str(c.shape),
                    [ho, wo](const auto& in) { return upsample_bilinear2d(in[0], ho, wo); },
                    {randn64(c.shape, seed++)});
  }
}

TEST_CASE("upsample_bilinear2d: errors", "[resample]") {
  Tensor x = Tensor::zeros({1, 2, 4, 4});
  CHECK_THROWS_WITH(upsample_bilinear2d(Tensor::zeros({2, 4, 4}), 8, 8), Catch::Contains("4-D"));
  CHECK_THROWS_WITH(upsample_bilinear2d(x, 0, 8), Catch::Contains("must be positive"));
  CHECK_THROWS_WITH(upsample_bilinear2d(x, 8, -1), Catch::Contains("must be positive"));
  CHECK_THROWS_WITH(upsample_bilinear2d(Tensor::zeros({1, 2, 0, 4}), 8, 8),
                    Catch::Contains("empty plane"));
  CHECK_THROWS_WITH(upsample_bilinear2d(x.to(DType::BF16), 8, 8), Catch::Contains("bfloat16"));
}

// ---------------------------------------------------------------- PyTorch parity

TEST_CASE("upsample and pad match PyTorch", "[resample][golden]") {
  check_parity("upsample", 1, [](const auto& in) { return upsample_nearest2x(in[0]); }, 0, 1e-6);
  check_parity("pad_down", 1, [](const auto& in) { return pad2d(in[0], 0, 1, 0, 1); }, 0, 0);
  check_parity("pad_value", 1, [](const auto& in) { return pad2d(in[0], 2, 1, 3, 0, 0.75); }, 0,
               0);
}

TEST_CASE("upsample_bilinear2d matches PyTorch", "[resample][golden]") {
  check_parity("bilinear_up", 1, [](const auto& in) { return upsample_bilinear2d(in[0], 52, 52); },
               1e-6, 1e-5);
  check_parity("bilinear_down", 1, [](const auto& in) { return upsample_bilinear2d(in[0], 4, 7); },
               1e-6, 1e-5);
  check_parity("bilinear_mixed", 1,
               [](const auto& in) { return upsample_bilinear2d(in[0], 8, 3); }, 1e-6, 1e-5);
}

