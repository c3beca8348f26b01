// Nearest 2x upsample and constant pad: hand-computed values, float64 gradient checks, error
// messages, and parity with PyTorch (tests/golden/gen_resample.py).
#include <catch2/catch.hpp>
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

// ---------------------------------------------------------------- PyTorch parity

TEST_CASE("upsample and pad match PyTorch", "[resample][golden]") {
  check_parity("upsample", 1, [](const auto& in) { return upsample_nearest2x(in[0]); }, 0, 1e-6);
  check_parity("pad_down", 1, [](const auto& in) { return pad2d(in[0], 0, 1, 0, 1); }, 0, 0);
  check_parity("pad_value", 1, [](const auto& in) { return pad2d(in[0], 2, 1, 3, 0, 0.75); }, 0,
               0);
}

