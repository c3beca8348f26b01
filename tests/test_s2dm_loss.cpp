// The S²-DM loss against values computed here with plain loops, its edge cases and options, and a
// float64 central-difference gradient check through `out`.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "diffusion/s2dm_loss.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;

namespace {

struct Expected {
  double loss = 0, l0_mean = 0, lskip_mean = 0;
  int64_t skip_count = 0;
};

// docs/method.md §3 written out element by element.
Expected by_hand(const NoiseSchedule& s, const Tensor& out, const Tensor& e1, const Tensor& e2,
                 const std::vector<int64_t>& t, int64_t skip, double tau, bool sum_pixels) {
  const auto o = out.to_vector(), a = e1.to_vector(), b = e2.to_vector();
  const size_t batch = t.size(), per = o.size() / batch;
  Expected r;
  for (size_t i = 0; i < batch; ++i) {
    const int64_t prev = t[i] - skip < 0 ? 0 : t[i] - skip;
    const double a_skip = s.alpha_bar(t[i]) / s.alpha_bar(prev);
    const double c = std::sqrt((1 - a_skip) / a_skip);
    double l0 = 0, ls = 0;
    for (size_t j = i * per; j < (i + 1) * per; ++j) {
      l0 += (a[j] - o[j]) * (a[j] - o[j]);
      ls += (b[j] - c * o[j]) * (b[j] - c * o[j]);
    }
    if (!sum_pixels) {
      l0 /= static_cast<double>(per);
      ls /= static_cast<double>(per);
    }
    r.l0_mean += l0 / static_cast<double>(batch);
    if (t[i] < skip) {
      r.loss += l0 / static_cast<double>(batch);
    } else {
      r.loss += (tau * l0 + (1 - tau) * ls) / static_cast<double>(batch);
      r.lskip_mean += ls;
      ++r.skip_count;
    }
  }
  if (r.skip_count > 0) r.lskip_mean /= static_cast<double>(r.skip_count);
  return r;
}

}  // namespace

TEST_CASE("s2dm_loss: values against a hand computation, defaults and options", "[loss]") {
  const NoiseSchedule s;
  const Tensor out = test::randn64({4, 2, 3, 2}, 1, 1.0, 0.0, false);
  const Tensor e1 = test::randn64({4, 2, 3, 2}, 2, 1.0, 0.0, false);
  const Tensor e2 = test::randn64({4, 2, 3, 2}, 3, 1.0, 0.0, false);
  // t = 3 < skip uses ℓ0 alone; t = 9 = skip jumps to step 0; t = 10 and 700 are ordinary.
  const std::vector<int64_t> t = {3, 9, 10, 700};

  const S2dmLoss def = s2dm_loss(s, out, e1, e2, t);
  const Expected ex = by_hand(s, out, e1, e2, t, 9, 0.99, false);
  CHECK(def.loss.dim() == 0);
  CHECK(def.loss.item() == Approx(ex.loss).epsilon(1e-13));
  CHECK(def.l0_mean() == Approx(ex.l0_mean).epsilon(1e-13));
  CHECK(def.lskip_mean() == Approx(ex.lskip_mean).epsilon(1e-13));
  CHECK(def.skip_count == 3);

  for (double tau : {0.0, 0.3, 0.99}) {
    for (int64_t skip : {1, 9, 49}) {
      for (bool sum_pixels : {false, true}) {
        INFO("tau " << tau << " skip " << skip << " sum " << sum_pixels);
        const S2dmLoss r = s2dm_loss(s, out, e1, e2, t, {skip, tau, false, sum_pixels});
        const Expected e = by_hand(s, out, e1, e2, t, skip, tau, sum_pixels);
        CHECK(r.loss.item() == Approx(e.loss).epsilon(1e-13));
        CHECK(r.l0_mean() == Approx(e.l0_mean).epsilon(1e-13));
        CHECK(r.lskip_mean() == Approx(e.lskip_mean).epsilon(1e-13));
        CHECK(r.skip_count == e.skip_count);
      }
    }
  }

  // A spot value small enough to check on paper: one pixel, out = 1, ε1 = 0, ε2 = 0, t = skip = 1.
  // α_skip = ᾱ_1/ᾱ_0 (≈ α_1), c² = (1−α_skip)/α_skip, ℓ = τ·1 + (1−τ)·c².
  const Tensor one = Tensor::ones({1, 1, 1, 1}, DType::F64);
  const Tensor zero = Tensor::zeros({1, 1, 1, 1}, DType::F64);
  const double a1 = s.alpha_bar(1) / s.alpha_bar(0);
  CHECK(a1 == Approx(1.0 - (1e-4 + (0.02 - 1e-4) / 999.0)).epsilon(1e-7));
  const S2dmLoss spot = s2dm_loss(s, one, zero, zero, {1}, {1, 0.5, false, false});
  CHECK(spot.loss.item() == Approx(0.5 + 0.5 * (1 - a1) / a1).epsilon(1e-12));
}

TEST_CASE("s2dm_loss: samples with t < skip use l0 alone", "[loss]") {
  const NoiseSchedule s;
  const Tensor out = test::randn64({3, 1, 2, 2}, 4, 1.0, 0.0, false);
  const Tensor e1 = test::randn64({3, 1, 2, 2}, 5, 1.0, 0.0, false);
  const Tensor e2 = test::randn64({3, 1, 2, 2}, 6, 1.0, 0.0, false);
  const S2dmLoss r = s2dm_loss(s, out, e1, e2, {0, 4, 8}, {9, 0.2, false, false});
  CHECK(r.skip_count == 0);
  CHECK(r.lskip_mean() == 0.0);
  CHECK(r.loss.item() == Approx(r.l0_mean()).epsilon(1e-14));
  CHECK(r.loss.item() == Approx(mse_loss(out, e1).item()).epsilon(1e-13));
  // The skip term only changes the loss from t = skip on.
  const S2dmLoss at = s2dm_loss(s, out, e1, e2, {0, 4, 9}, {9, 0.2, false, false});
  CHECK(at.skip_count == 1);
  CHECK(at.loss.item() != Approx(r.loss.item()));
}

TEST_CASE("s2dm_loss: tau = 1 is the plain MSE baseline", "[loss]") {
  const NoiseSchedule s;
  const Tensor out = test::randn64({5, 3, 4, 4}, 7, 1.0, 0.0, false);
  const Tensor e1 = test::randn64({5, 3, 4, 4}, 8, 1.0, 0.0, false);
  const Tensor e2 = test::randn64({5, 3, 4, 4}, 9, 1.0, 0.0, false);
  const std::vector<int64_t> t = {0, 100, 500, 900, 999};
  const S2dmLoss r = s2dm_loss(s, out, e1, e2, t, {9, 1.0, false, false});
  CHECK(r.loss.item() == Approx(mse_loss(out, e1).item()).epsilon(1e-13));
  CHECK(r.skip_count == 4);  // still reported
  CHECK(r.lskip_mean() == Approx(by_hand(s, out, e1, e2, t, 9, 1.0, false).lskip_mean));
}

TEST_CASE("s2dm_loss: same noise and sum over pixels", "[loss]") {
  const NoiseSchedule s;
  const Tensor out = test::randn64({3, 2, 4, 4}, 10, 1.0, 0.0, false);
  const Tensor e1 = test::randn64({3, 2, 4, 4}, 11, 1.0, 0.0, false);
  const Tensor e2 = test::randn64({3, 2, 4, 4}, 12, 1.0, 0.0, false);
  const std::vector<int64_t> t = {20, 300, 999};
  const S2dmLoss same = s2dm_loss(s, out, e1, Tensor(), t, {9, 0.6, true, false});
  const S2dmLoss explicit_same = s2dm_loss(s, out, e1, e1, t, {9, 0.6, false, false});
  CHECK(same.loss.item() == Approx(explicit_same.loss.item()).epsilon(1e-14));
  CHECK(same.loss.item() == Approx(by_hand(s, out, e1, e1, t, 9, 0.6, false).loss).epsilon(1e-13));
  // With same_noise the ε2 argument is ignored.
  CHECK(s2dm_loss(s, out, e1, e2, t, {9, 0.6, true, false}).loss.item() ==
        Approx(same.loss.item()).epsilon(1e-14));

  const S2dmLoss mean_r = s2dm_loss(s, out, e1, e2, t, {9, 0.6, false, false});
  const S2dmLoss sum_r = s2dm_loss(s, out, e1, e2, t, {9, 0.6, false, true});
  CHECK(sum_r.loss.item() == Approx(mean_r.loss.item() * 32.0).epsilon(1e-13));
  CHECK(sum_r.l0_mean() == Approx(mean_r.l0_mean() * 32.0).epsilon(1e-13));
  CHECK(sum_r.lskip_mean() == Approx(mean_r.lskip_mean() * 32.0).epsilon(1e-13));
}

TEST_CASE("s2dm_loss: float64 gradient check through out", "[loss]") {
  const NoiseSchedule s;
  const Tensor out = test::randn64({4, 2, 3, 3}, 13);
  const Tensor e1 = test::randn64({4, 2, 3, 3}, 14, 1.0, 0.0, false);
  const Tensor e2 = test::randn64({4, 2, 3, 3}, 15, 1.0, 0.0, false);
  const std::vector<int64_t> t = {2, 9, 150, 990};
  for (const S2dmLossOptions& o : {S2dmLossOptions{}, S2dmLossOptions{9, 0.3, false, false},
                                   S2dmLossOptions{9, 0.0, true, false},
                                   S2dmLossOptions{49, 0.5, false, true},
                                   S2dmLossOptions{9, 1.0, false, false}}) {
    INFO("tau " << o.tau << " skip " << o.skip << " same " << o.same_noise);
    const auto loss = [&](const auto& in) { return s2dm_loss(s, in[0], in[1], in[2], t, o).loss; };
    test::check_gradients("s2dm_loss", loss, {out, e1, e2});
  }
  // The analytic gradient of the default loss for one sample with t < skip: 2(out − ε1)/(B·CHW).
  Tensor o1 = test::randn64({1, 1, 1, 2}, 16);
  const Tensor z = Tensor::zeros({1, 1, 1, 2}, DType::F64);
  s2dm_loss(s, o1, z, z, {3}).loss.backward();
  const auto g = o1.grad().to_vector(), v = o1.to_vector();
  CHECK(g[0] == Approx(v[0]).epsilon(1e-14));
  CHECK(g[1] == Approx(v[1]).epsilon(1e-14));
}

TEST_CASE("s2dm_loss: invalid options and inputs are rejected with clear messages", "[loss]") {
  const NoiseSchedule s;
  const Tensor out = test::randn64({2, 1, 2, 2}, 17, 1.0, 0.0, false);
  const Tensor e = test::randn64({2, 1, 2, 2}, 18, 1.0, 0.0, false);
  const std::vector<int64_t> t = {10, 20};
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e, t, {9, 1.5, false, false}),
                    Catch::Contains("tau must lie in [0, 1]"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e, t, {9, -0.1, false, false}),
                    Catch::Contains("tau must lie in [0, 1]"));
  CHECK_THROWS_WITH(
      s2dm_loss(s, out, e, e, t, {9, std::numeric_limits<double>::quiet_NaN(), false, false}),
      Catch::Contains("tau"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e, t, {0, 0.9, false, false}),
                    Catch::Contains("skip must be at least 1"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, test::randn64({2, 1, 2, 3}, 19), e, t),
                    Catch::Contains("eps1"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, Tensor(), t), Catch::Contains("eps2 is undefined"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e.to(DType::F32), t), Catch::Contains("dtype"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e, {10}),
                    Catch::Contains("1 time steps for a batch of 2"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e, {10, 1000}), Catch::Contains("outside [0, 999]"));
  CHECK_THROWS_WITH(s2dm_loss(s, out, e, e, {10, -1}), Catch::Contains("outside [0, 999]"));
}
