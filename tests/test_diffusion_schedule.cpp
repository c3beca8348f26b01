// The forward process: β/ᾱ values against independent double-precision arithmetic, the ᾱ(−1)
// convention, the continuous ᾱ, antithetic time steps and q_sample (values and gradients).
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

#include "diffusion/schedule.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;

TEST_CASE("schedule: betas are the float32-rounded float64 linspace", "[diffusion]") {
  const NoiseSchedule s;
  REQUIRE(s.num_steps() == 1000);
  CHECK(s.betas()[0] == static_cast<double>(1e-4f));
  CHECK(s.betas()[999] == static_cast<double>(0.02f));
  for (int i = 0; i < 1000; i += 37) {
    const double exact = 1e-4 + i * (0.02 - 1e-4) / 999.0;
    CHECK(std::abs(s.betas()[static_cast<size_t>(i)] - exact) <= 1e-9);
    CHECK(s.alphas()[static_cast<size_t>(i)] == Approx(1.0 - exact).epsilon(1e-7));
  }
}

TEST_CASE("schedule: alpha_bar values, monotonicity and the t = -1 convention", "[diffusion]") {
  const NoiseSchedule s;
  CHECK(s.alpha_bar(-1) == 1.0);
  CHECK(s.alpha_bar(0) == s.alphas()[0]);
  // The cumulative product of the exact (unrounded) α's, in double.
  double prod = 1.0;
  std::vector<double> exact;
  for (int i = 0; i < 1000; ++i) {
    prod *= 1.0 - (1e-4 + i * (0.02 - 1e-4) / 999.0);
    exact.push_back(prod);
  }
  for (int t : {0, 1, 9, 99, 250, 499, 750, 999}) {
    INFO("t = " << t);
    CHECK(s.alpha_bar(t) == Approx(exact[static_cast<size_t>(t)]).epsilon(1e-5));
  }
  CHECK(s.alpha_bar(999) == Approx(4.0358e-5).epsilon(1e-4));
  for (int t = 0; t < 1000; ++t) REQUIRE(s.alpha_bar(t) < s.alpha_bar(t - 1));
  // The documented rounding: float32 α's, product accumulated in double, rounded per step.
  double acc = 1.0;
  for (int t = 0; t < 1000; ++t) {
    const float a = 1.0f - static_cast<float>(1e-4 + t * ((0.02 - 1e-4) / 999.0));
    acc *= static_cast<double>(a);
    REQUIRE(s.alpha_bar(t) == static_cast<double>(static_cast<float>(acc)));
  }
  CHECK_THROWS_WITH(s.alpha_bar(1000), Catch::Contains("outside [-1, 999]"));
  CHECK_THROWS_WITH(s.alpha_bar(-2), Catch::Contains("outside"));
  CHECK_THROWS_AS(NoiseSchedule(0), Error);
  CHECK_THROWS_AS(NoiseSchedule(10, 0.1, 0.01), Error);
}

TEST_CASE("schedule: continuous alpha_bar is log-linear between integer steps", "[diffusion]") {
  const NoiseSchedule s;
  for (int t : {-1, 0, 5, 998, 999}) CHECK(s.alpha_bar_continuous(t) == Approx(s.alpha_bar(t)));
  CHECK(s.alpha_bar_continuous(-0.5) == Approx(std::sqrt(s.alpha_bar(0))).epsilon(1e-12));
  CHECK(s.alpha_bar_continuous(10.5) ==
        Approx(std::sqrt(s.alpha_bar(10) * s.alpha_bar(11))).epsilon(1e-12));
  CHECK(s.alpha_bar_continuous(10.25) ==
        Approx(std::pow(s.alpha_bar(10), 0.75) * std::pow(s.alpha_bar(11), 0.25)).epsilon(1e-12));
  CHECK_THROWS_AS(s.alpha_bar_continuous(999.5), Error);
  CHECK_THROWS_AS(s.alpha_bar_continuous(-1.5), Error);
}

TEST_CASE("antithetic time steps: pairs sum to T-1, odd batches, range, determinism",
          "[diffusion]") {
  for (int64_t batch : {1, 2, 7, 8, 129}) {
    Generator g(42);
    const auto t = antithetic_timesteps(batch, 1000, g);
    REQUIRE(static_cast<int64_t>(t.size()) == batch);
    const int64_t first = (batch + 1) / 2;
    for (int64_t i = 0; i < batch; ++i) {
      REQUIRE(t[static_cast<size_t>(i)] >= 0);
      REQUIRE(t[static_cast<size_t>(i)] <= 999);
    }
    for (int64_t i = first; i < batch; ++i) {
      CHECK(t[static_cast<size_t>(i)] + t[static_cast<size_t>(i - first)] == 999);
    }
    Generator g2(42);
    CHECK(antithetic_timesteps(batch, 1000, g2) == t);
  }
  // The first half is uniform on {0..T-1}: the drawn values are floor(u·T) of the generator's
  // uniforms, and their mean and spread match U{0..999}.
  Generator g(7);
  const auto t = antithetic_timesteps(20001, 1000, g);
  Generator same(7);
  const auto u = rand({10001}, same, DType::F64).to_vector();
  for (size_t i = 0; i < 10001; i += 97) {
    REQUIRE(t[i] == static_cast<int64_t>(std::floor(u[i] * 1000.0)));
  }
  double mean = 0.0;
  int64_t lo = 1000, hi = -1;
  for (size_t i = 0; i < 10001; ++i) {
    mean += static_cast<double>(t[i]);
    lo = std::min(lo, t[i]);
    hi = std::max(hi, t[i]);
  }
  mean /= 10001.0;
  CHECK(std::abs(mean - 499.5) < 10.0);  // standard error ≈ 2.9
  CHECK(lo <= 2);
  CHECK(hi >= 997);
  CHECK_THROWS_AS(antithetic_timesteps(0, 1000, g), Error);
}

TEST_CASE("q_sample: per-sample coefficients, gradients and errors", "[diffusion]") {
  const NoiseSchedule s;
  const Tensor x0 = test::randn64({3, 2, 2, 2}, 1);
  const Tensor eps = test::randn64({3, 2, 2, 2}, 2);
  const std::vector<int64_t> t = {0, 400, 999};
  const Tensor xt = q_sample(s, x0, t, eps);
  const auto xv = x0.to_vector(), ev = eps.to_vector(), out = xt.to_vector();
  for (size_t i = 0; i < out.size(); ++i) {
    const double ab = s.alpha_bar(t[i / 8]);
    REQUIRE(out[i] == Approx(std::sqrt(ab) * xv[i] + std::sqrt(1.0 - ab) * ev[i]).epsilon(1e-14));
  }
  test::check_gradients("q_sample", [&](const auto& in) { return q_sample(s, in[0], t, in[1]); },
                        {x0, eps});
  CHECK_THROWS_WITH(q_sample(s, x0, {0, 1}, eps), Catch::Contains("2 time steps for a batch of 3"));
  CHECK_THROWS_WITH(q_sample(s, x0, {0, 1, 1000}, eps), Catch::Contains("outside [0, 999]"));
  CHECK_THROWS_AS(q_sample(s, x0, t, test::randn64({3, 2, 2, 1}, 3)), Error);
  const Tensor tt = time_tensor({3, 7}, DType::F32);
  CHECK(tt.dtype() == DType::F32);
  CHECK(tt.to_vector() == std::vector<double>{3, 7});
}
