// The sinusoidal timestep embedding: values, backward, float64 gradient checks, errors and parity
// with the PyTorch reference (tests/golden/gen_resample.py).
#include <catch2/catch.hpp>
#include <cmath>
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

TEST_CASE("timestep_embedding: values", "[embedding]") {
  // dim 4: half 2, f = (1, 1e-4); dim 5 adds a zero column.
  const std::vector<double> ts = {0, 1, 2.5};
  Tensor t = f64(ts, {3});
  const auto e4 = timestep_embedding(t, 4).to_vector();
  const auto e5 = timestep_embedding(t, 5).to_vector();
  for (size_t r = 0; r < ts.size(); ++r) {
    const double tt = ts[r];
    const std::vector<double> want = {std::sin(tt), std::sin(1e-4 * tt), std::cos(tt),
                                      std::cos(1e-4 * tt)};
    for (size_t i = 0; i < 4; ++i) {
      CHECK(e4[r * 4 + i] == Approx(want[i]).margin(1e-15));
      CHECK(e5[r * 5 + i] == Approx(want[i]).margin(1e-15));
    }
    CHECK(e5[r * 5 + 4] == 0.0);
  }
  // dim 6: f = (1, 0.01, 1e-4), in float32.
  Tensor tf = Tensor::from_vector(std::vector<float>{17.25f}, {1});
  const auto e6 = timestep_embedding(tf, 6);
  CHECK(e6.dtype() == DType::F32);
  CHECK(e6.shape() == Shape{1, 6});
  const auto v6 = e6.to_vector();
  const double f6[3] = {1, 0.01, 1e-4};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(v6[i] == Approx(std::sin(17.25 * f6[i])).margin(1e-6));
    CHECK(v6[3 + i] == Approx(std::cos(17.25 * f6[i])).margin(1e-6));
  }
}

TEST_CASE("timestep_embedding: backward value", "[embedding]") {
  // With a seed of ones: dt = Σ f (cos(t f) - sin(t f)), f = (1, 1e-4) for dim 4.
  Tensor t = f64_leaf({0.5, 999}, {2});
  timestep_embedding(t, 5).backward(Tensor::ones({2, 5}, DType::F64));
  const auto dt = t.grad().to_vector();
  for (size_t r = 0; r < 2; ++r) {
    const double tt = r == 0 ? 0.5 : 999.0;
    double want = 0;
    for (double f : {1.0, 1e-4}) want += f * (std::cos(tt * f) - std::sin(tt * f));
    CHECK(dt[r] == Approx(want).margin(1e-14));
  }
}

TEST_CASE("timestep_embedding: gradient checks with fractional t", "[embedding][grad]") {
  const std::vector<double> ts = {0.5, 17.25, 999, 3, 0};
  for (int64_t dim : {4, 8, 9, 33}) {
    Tensor t = f64_leaf(ts, {5});
    check_gradients("timestep_embedding dim " + std::to_string(dim),
                    [dim](const auto& in) { return timestep_embedding(in[0], dim); }, {t});
  }
}

TEST_CASE("timestep_embedding: errors", "[embedding]") {
  Tensor t = Tensor::zeros({3}, DType::F64);
  CHECK_THROWS_WITH(timestep_embedding(t, 3), Catch::Contains("at least 4"));
  CHECK_THROWS_WITH(timestep_embedding(t, -8), Catch::Contains("at least 4"));
  CHECK_THROWS_WITH(timestep_embedding(Tensor::zeros({3, 1}, DType::F64), 8),
                    Catch::Contains("1-D"));
  CHECK_THROWS_WITH(timestep_embedding(t.to(DType::BF16), 8), Catch::Contains("bfloat16"));
}

TEST_CASE("timestep_embedding matches the PyTorch reference", "[embedding][golden]") {
  // float32: a one-ulp difference in exp() for a frequency moves t·f by ~6e-5 at t = 999, so the
  // sin/cos of the largest steps agree to ~1e-5 rather than to float32 rounding.
  for (int dim : {8, 9, 128}) {
    const std::string name = "temb" + std::to_string(dim);
    check_parity(name, 1, [dim](const auto& in) { return timestep_embedding(in[0], dim); }, 1e-4,
                 1e-4);
  }
}
