// Samplers: step lists, the DDIM/PNDM/DEIS identities, NFE counts, determinism, slerp, and sampling
// Gaussian data with the exact ε-oracle, where the probability-flow map is known in closed form.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <string>

#include "diffusion/samplers.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;

namespace {

// Data x0 ~ N(μ_d, σ_d²) independently per dimension d; |μ| + 4σ < 1, so DDPM's clipping of x0̂
// practically never acts.
struct GaussianData {
  std::vector<double> mu = {-0.3, -0.2, -0.1, 0.0, 0.05, 0.1, 0.2, 0.3};
  std::vector<double> sigma = {0.15, 0.2, 0.22, 0.24, 0.2, 0.18, 0.19, 0.17};
  int64_t dims() const { return static_cast<int64_t>(mu.size()); }
};

// The exact ε(x_t, t) = √(1−ᾱ)(x_t − √ᾱ μ)/(ᾱσ² + 1 − ᾱ), with ᾱ = ᾱ(⌊t⌋) at fractional times (the
// same convention the PNDM transfer uses for its midpoints).
EpsModel gaussian_oracle(const NoiseSchedule& s, const GaussianData& d) {
  return [&s, d](const Tensor& x, const Tensor& t) {
    const double ab = s.alpha_bar(static_cast<int64_t>(std::floor(t.to_vector()[0])));
    std::vector<double> shift(d.mu.size()), scale(d.mu.size());
    for (size_t i = 0; i < d.mu.size(); ++i) {
      shift[i] = std::sqrt(ab) * d.mu[i];
      scale[i] = std::sqrt(1 - ab) / (ab * d.sigma[i] * d.sigma[i] + 1 - ab);
    }
    const Shape row = {1, d.dims()};
    return mul(sub(x, Tensor::from_vector(shift, row)), Tensor::from_vector(scale, row));
  };
}

// x_T drawn from the exact marginal at t_start: √ᾱ μ + √(ᾱσ² + 1 − ᾱ) z.
Tensor start_from_marginal(const NoiseSchedule& s, const GaussianData& d, int64_t t_start,
                           int64_t n, uint64_t seed) {
  Generator g(seed);
  auto z = randn({n, d.dims()}, g, DType::F64).to_vector();
  const double ab = s.alpha_bar(t_start);
  for (size_t i = 0; i < z.size(); ++i) {
    const size_t k = i % d.mu.size();
    z[i] = std::sqrt(ab) * d.mu[k] + std::sqrt(ab * d.sigma[k] * d.sigma[k] + 1 - ab) * z[i];
  }
  return Tensor::from_vector(z, {n, d.dims()});
}

// The exact probability-flow map from t_start to t = −1: per dimension, the affine map between the
// two Gaussian marginals.
std::vector<double> exact_flow(const NoiseSchedule& s, const GaussianData& d, int64_t t_start,
                               const Tensor& x_T) {
  auto x = x_T.to_vector();
  const double ab = s.alpha_bar(t_start);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t k = i % d.mu.size();
    const double sd = std::sqrt(ab * d.sigma[k] * d.sigma[k] + 1 - ab);
    x[i] = d.mu[k] + d.sigma[k] * (x[i] - std::sqrt(ab) * d.mu[k]) / sd;
  }
  return x;
}

double max_error(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Mean and variance of the standardized samples (x − μ_d)/σ_d, pooled over all dimensions.
std::pair<double, double> standardized_moments(const GaussianData& d, const Tensor& x0) {
  const auto x = x0.to_vector();
  double sum = 0, sq = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t k = i % d.mu.size();
    const double u = (x[i] - d.mu[k]) / d.sigma[k];
    sum += u;
    sq += u * u;
  }
  const double n = static_cast<double>(x.size());
  const double mean = sum / n;
  return {mean, sq / n - mean * mean};
}

// A smooth nonlinear stand-in for a network, for identities that must hold for any model.
EpsModel toy_model() {
  return [](const Tensor& x, const Tensor& t) {
    const Tensor tt = t.reshape({t.size(0), 1}).expand({x.size(0), x.size(1)});
    return sub(mul(sigmoid(x), mul_scalar(tt, 1e-3)), mul_scalar(x, 0.3));
  };
}

}  // namespace

TEST_CASE("step lists: uniform and quadratic for small S, exactly as the reference code",
          "[samplers]") {
  using V = std::vector<int64_t>;
  CHECK(uniform_steps(1000, 10) == V{0, 100, 200, 300, 400, 500, 600, 700, 800, 900});
  CHECK(uniform_steps(1000, 1) == V{0});
  CHECK(uniform_steps(1000, 3) == V{0, 333, 666, 999});
  CHECK(uniform_steps(1000, 7) == V{0, 142, 284, 426, 568, 710, 852, 994});
  CHECK(uniform_count_steps(1000, 3) == V{0, 333, 666});
  CHECK(uniform_count_steps(1000, 7) == V{0, 142, 285, 428, 571, 714, 857});
  CHECK(uniform_count_steps(1000, 10) == uniform_steps(1000, 10));
  CHECK(quadratic_steps(1000, 1) == V{0});
  CHECK(quadratic_steps(1000, 2) == V{0, 800});
  CHECK(quadratic_steps(1000, 3) == V{0, 200, 800});
  CHECK(quadratic_steps(1000, 5) == V{0, 50, 200, 450, 800});
  CHECK(quadratic_steps(1000, 10) == V{0, 9, 39, 88, 158, 246, 355, 483, 632, 800});
  CHECK(quadratic_steps(1000, 20) == V{0,   2,   8,   19,  35,  55,  79,  108, 141, 179,
                                       221, 268, 319, 374, 434, 498, 567, 640, 718, 800});
  const V q100 = quadratic_steps(1000, 100);
  CHECK(q100.size() == 100);
  CHECK(V(q100.begin(), q100.begin() + 8) == V{0, 0, 0, 0, 1, 2, 2, 3});  // duplicates kept
  CHECK(make_steps(StepSpacing::Quadratic, 1000, 5) == quadratic_steps(1000, 5));
  CHECK(make_steps(parse_step_spacing("uniform"), 1000, 4) == V{0, 250, 500, 750});
  CHECK_THROWS_WITH(parse_step_spacing("cosine"), Catch::Contains("unknown step spacing 'cosine'"));
  CHECK_THROWS_WITH(uniform_steps(1000, 0), Catch::Contains("must be in [1, 1000]"));
  CHECK_THROWS_AS(quadratic_steps(1000, 1001), Error);
}

TEST_CASE("the PNDM transfer equals the DDIM eta = 0 step", "[samplers]") {
  const NoiseSchedule s;
  const Tensor x = test::randn64({3, 5}, 1, 1.0, 0.0, false);
  const Tensor e = test::randn64({3, 5}, 2, 1.0, 0.0, false);
  for (auto [t, u] : std::vector<std::pair<int64_t, int64_t>>{
           {999, 899}, {500, 499}, {100, 0}, {0, -1}, {9, -1}, {300, 300}, {999, -1}}) {
    INFO(t << " -> " << u);
    test::require_close("transfer", pndm_transfer(x, e, s.alpha_bar(t), s.alpha_bar(u)),
                        ddim_step(x, e, s.alpha_bar(t), s.alpha_bar(u), 0.0), 1e-12, 1e-12);
  }
}

TEST_CASE("DEIS order 0 equals DDIM eta = 0 on the same grid", "[samplers]") {
  const NoiseSchedule s;
  const Tensor x_T = test::randn64({4, 6}, 3, 1.0, 0.0, false);
  const EpsModel model = toy_model();
  Generator g(0);
  for (const auto& seq : {uniform_steps(1000, 10), quadratic_steps(1000, 20),
                          uniform_steps(1000, 1), quadratic_steps(1000, 100)}) {
    const SampleResult ddim = ddim_sample(model, s, x_T, seq, 0.0, g);
    const SampleResult deis = deis_sample(model, s, x_T, seq, 0);
    test::require_close("deis0 vs ddim", deis.x0, ddim.x0, 1e-11, 1e-11);
  }
  // Coefficients: order 0 has the closed form, and each step's C_j sum to it (Σ ℓ_j ≡ 1).
  const auto seq = quadratic_steps(1000, 10);
  const auto c0 = deis_coefficients(s, seq, 0), c3 = deis_coefficients(s, seq, 3);
  REQUIRE(c0.size() == 10);
  REQUIRE(c3.size() == 10);
  for (size_t k = 0; k < c0.size(); ++k) {
    const double a_t = s.alpha_bar(c0[k].t), a_s = s.alpha_bar(c0[k].s);
    const double closed = std::sqrt(1 - a_s) - std::sqrt(a_s / a_t) * std::sqrt(1 - a_t);
    CHECK(c0[k].coef.size() == 1);
    CHECK(c0[k].coef[0] == Approx(closed).epsilon(1e-12));
    CHECK(c3[k].coef.size() == std::min<size_t>(k, 3) + 1);
    CHECK(c3[k].nodes[0] == c3[k].t);
    const double total = std::accumulate(c3[k].coef.begin(), c3[k].coef.end(), 0.0);
    CHECK(total == Approx(closed).epsilon(1e-10));
  }
  CHECK(c0.front().t == 800);
  CHECK(c0.back().s == -1);
  CHECK_THROWS_WITH(deis_coefficients(s, seq, 4), Catch::Contains("order must be 0, 1, 2 or 3"));
}

TEST_CASE("DEIS coefficients integrate polynomials in time exactly", "[samplers]") {
  // With ε(τ) = p(τ) of degree ≤ r, Σ_j C_j p(τ_j) must equal √ᾱ_s ∫ p(τ(ρ)) dρ, checked against an
  // independent composite midpoint rule in τ on the continuous schedule.
  const NoiseSchedule s;
  const auto steps = deis_coefficients(s, uniform_steps(1000, 10), 3);
  const auto p = [](double tau) {
    return 1.0 + 2e-3 * tau - 3e-6 * tau * tau + 1e-9 * tau * tau * tau;
  };
  // The last step (to τ = −1) has an integrable 1/√(τ+1) singularity that the midpoint rule cannot
  // resolve; the order-0 closed form above covers it.
  for (size_t k = 3; k + 1 < steps.size(); ++k) {
    const DeisStep& st = steps[k];
    double quad = 0;
    for (size_t j = 0; j < st.nodes.size(); ++j) {
      quad += st.coef[j] * p(static_cast<double>(st.nodes[j]));
    }
    // ∫_t^s √(ᾱ_s/ᾱ_τ)·(−½ dlogᾱ/dτ)/√(1−ᾱ_τ)·p(τ) dτ with dlogᾱ/dτ constant on each unit piece.
    const int n = 200;
    double ref = 0;
    for (int64_t seg = st.s; seg < st.t; ++seg) {
      const double dlog = std::log(s.alpha_bar(seg + 1)) - std::log(s.alpha_bar(seg));
      for (int i = 0; i < n; ++i) {
        const double tau = static_cast<double>(seg) + (i + 0.5) / n;
        const double ab = s.alpha_bar_continuous(tau);
        ref -= std::sqrt(s.alpha_bar(st.s) / ab) * (-0.5 * dlog) / std::sqrt(1 - ab) * p(tau) / n;
      }
    }
    INFO("step " << k);
    CHECK(quad == Approx(ref).epsilon(1e-6));
  }
}

TEST_CASE("NFE counts and the times each sampler asks for", "[samplers]") {
  const NoiseSchedule s;
  const Tensor x_T = test::randn64({2, 3}, 4, 1.0, 0.0, false);
  std::vector<double> seen;
  const EpsModel counting = [&seen](const Tensor& x, const Tensor& t) {
    seen.push_back(t.to_vector()[0]);
    return mul_scalar(x, 0.1);
  };
  Generator g(1);
  const auto u10 = uniform_steps(1000, 10);
  CHECK(ddim_sample(counting, s, x_T, u10, 0.0, g).nfe == 10);
  CHECK(seen.size() == 10);
  CHECK(seen.front() == 900);
  CHECK(seen.back() == 0);
  seen.clear();
  CHECK(ddim_sample(counting, s, x_T, u10, 1.0, g).nfe == 10);
  CHECK(ddpm_sample(counting, s, x_T, uniform_steps(1000, 1000), g).nfe == 1000);
  CHECK(ddpm_sample(counting, s, x_T, u10, g).nfe == 10);
  CHECK(pndm_sample(counting, s, x_T, u10, PndmVariant::Second).nfe == 11);
  for (int64_t steps : {1, 2, 3, 10, 50}) {
    const auto seq = uniform_steps(1000, steps);
    const int64_t n = static_cast<int64_t>(seq.size());
    CHECK(pndm_sample(counting, s, x_T, seq, PndmVariant::Second).nfe == n + 1);
    CHECK(pndm_sample(counting, s, x_T, seq, PndmVariant::Fourth).nfe ==
          (n >= 3 ? n + 9 : 4 * n));
  }
  seen.clear();
  pndm_sample(counting, s, x_T, u10, PndmVariant::Fourth);
  const std::vector<double> rk = {900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600, 600};
  CHECK(std::vector<double>(seen.begin(), seen.begin() + 13) == rk);
  CHECK(seen.size() == 19);
  seen.clear();
  pndm_sample(counting, s, x_T, {0}, PndmVariant::Fourth);
  CHECK(seen == std::vector<double>{0, -0.5, -0.5, -1});
  // DEIS walks distinct steps only.
  const auto q100 = quadratic_steps(1000, 100);
  auto distinct = q100;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (int order = 0; order <= 3; ++order) {
    CHECK(deis_sample(counting, s, x_T, q100, order).nfe == static_cast<int64_t>(distinct.size()));
  }
  CHECK(distinct.size() < q100.size());
}

TEST_CASE("deterministic samplers are bit-identical, stochastic ones follow the generator",
          "[samplers]") {
  const NoiseSchedule s;
  const Tensor x_T = test::randn64({3, 4}, 5, 1.0, 0.0, false);
  const EpsModel model = toy_model();
  const auto seq = quadratic_steps(1000, 10);
  Generator g1(1), g2(2);
  const auto a = ddim_sample(model, s, x_T, seq, 0.0, g1).x0.to_vector();
  const auto b = ddim_sample(model, s, x_T, seq, 0.0, g2).x0.to_vector();
  CHECK(a == b);
  CHECK(g1.offset == 0);  // η = 0 draws nothing
  CHECK(pndm_sample(model, s, x_T, seq, PndmVariant::Fourth).x0.to_vector() ==
        pndm_sample(model, s, x_T, seq, PndmVariant::Fourth).x0.to_vector());
  CHECK(deis_sample(model, s, x_T, seq, 3).x0.to_vector() ==
        deis_sample(model, s, x_T, seq, 3).x0.to_vector());
  Generator h1(9), h2(9), h3(10);
  const auto c = ddim_sample(model, s, x_T, seq, 1.0, h1).x0.to_vector();
  CHECK(c == ddim_sample(model, s, x_T, seq, 1.0, h2).x0.to_vector());
  CHECK(c != ddim_sample(model, s, x_T, seq, 1.0, h3).x0.to_vector());
  Generator p1(9), p2(9);
  CHECK(ddpm_sample(model, s, x_T, seq, p1).x0.to_vector() ==
        ddpm_sample(model, s, x_T, seq, p2).x0.to_vector());
  // x_T is left untouched.
  CHECK(x_T.to_vector() == test::randn64({3, 4}, 5, 1.0, 0.0, false).to_vector());
}

TEST_CASE("float32 sampling matches float64 to float precision", "[samplers]") {
  const NoiseSchedule s;
  const Tensor x64 = test::randn64({3, 4}, 7, 1.0, 0.0, false);
  const Tensor x32 = x64.to(DType::F32);
  const EpsModel model = toy_model();
  const auto seq = quadratic_steps(1000, 10);
  Generator g(0);
  const auto close = [](const char* what, const SampleResult& a, const SampleResult& b) {
    INFO(what);
    CHECK(a.x0.dtype() == DType::F32);
    test::require_close(what, a.x0.to(DType::F64), b.x0, 1e-4, 1e-4);
  };
  close("ddim", ddim_sample(model, s, x32, seq, 0.0, g), ddim_sample(model, s, x64, seq, 0.0, g));
  close("f-pndm", pndm_sample(model, s, x32, seq, PndmVariant::Fourth),
        pndm_sample(model, s, x64, seq, PndmVariant::Fourth));
  close("deis3", deis_sample(model, s, x32, seq, 3), deis_sample(model, s, x64, seq, 3));
  Generator g1(3), g2(3);
  const SampleResult d32 = ddpm_sample(model, s, x32, seq, g1);
  const SampleResult d64 = ddpm_sample(model, s, x64, seq, g2);
  CHECK(d32.x0.dtype() == DType::F32);
  test::require_close("ddpm", d32.x0.to(DType::F64), d64.x0, 1e-4, 1e-4);
}

TEST_CASE("sampler inputs are validated", "[samplers]") {
  const NoiseSchedule s;
  const Tensor x_T = test::randn64({2, 3}, 6, 1.0, 0.0, false);
  Generator g(0);
  const EpsModel model = toy_model();
  CHECK_THROWS_WITH(ddim_sample(model, s, x_T, {}, 0.0, g), Catch::Contains("step list is empty"));
  CHECK_THROWS_WITH(ddim_sample(model, s, x_T, {0, 500, 100}, 0.0, g),
                    Catch::Contains("must be ascending"));
  CHECK_THROWS_WITH(ddpm_sample(model, s, x_T, {0, 1000}, g), Catch::Contains("outside [0, 999]"));
  CHECK_THROWS_WITH(ddim_sample(model, s, x_T, {0, 10}, -1.0, g), Catch::Contains("eta"));
  CHECK_THROWS_WITH(ddim_step(x_T, x_T, s.alpha_bar(500), s.alpha_bar(100), 3.0, x_T),
                    Catch::Contains("too large"));
  const EpsModel wrong = [](const Tensor& x, const Tensor&) { return x.slice(1, 0, 2); };
  CHECK_THROWS_WITH(deis_sample(wrong, s, x_T, {0, 10}, 1),
                    Catch::Contains("must match the input's shape"));
  CHECK_THROWS_WITH(pndm_sample(model, s, Tensor(), {0}, PndmVariant::Second),
                    Catch::Contains("x_T must be a batch"));
}

TEST_CASE("Gaussian data, exact oracle: deterministic samplers follow the exact flow map",
          "[samplers]") {
  // Narrow data make the ODE stiff near t = 0, so few steps leave a visible error; it must shrink
  // with more steps, and the higher-order methods must beat DDIM at equal steps.
  const NoiseSchedule s;
  const GaussianData d;
  const EpsModel oracle = gaussian_oracle(s, d);
  using Sampler = std::function<SampleResult(const Tensor&, const std::vector<int64_t>&)>;
  Generator unused(0);
  const auto pndm = [&](PndmVariant v) -> Sampler {
    return [&, v](const Tensor& x, const auto& q) { return pndm_sample(oracle, s, x, q, v); };
  };
  const auto deis = [&](int order) -> Sampler {
    return [&, order](const Tensor& x, const auto& q) {
      return deis_sample(oracle, s, x, q, order);
    };
  };
  const std::vector<std::pair<std::string, Sampler>> samplers = {
      {"ddim",
       [&](const Tensor& x, const auto& q) { return ddim_sample(oracle, s, x, q, 0.0, unused); }},
      {"s-pndm", pndm(PndmVariant::Second)},
      {"f-pndm", pndm(PndmVariant::Fourth)},
      {"deis1", deis(1)},
      {"deis2", deis(2)},
      {"deis3", deis(3)},
  };
  const int64_t n = 512;  // × 8 dims = 4096 values
  const auto few = uniform_steps(1000, 20), many = uniform_steps(1000, 200);
  const Tensor x_few = start_from_marginal(s, d, few.back(), n, 11);
  const Tensor x_many = start_from_marginal(s, d, many.back(), n, 11);
  const auto exact_few = exact_flow(s, d, few.back(), x_few);
  const auto exact_many = exact_flow(s, d, many.back(), x_many);
  double ddim_few = 0, ddim_many = 0;
  for (const auto& [name, run] : samplers) {
    const SampleResult r_few = run(x_few, few), r_many = run(x_many, many);
    const double err_few = max_error(r_few.x0.to_vector(), exact_few);
    const double err_many = max_error(r_many.x0.to_vector(), exact_many);
    const auto [mean, var] = standardized_moments(d, r_many.x0);
    INFO(name << ": max error vs the exact flow " << err_few << " (20 steps), " << err_many
              << " (200 steps); standardized mean " << mean << ", variance " << var);
    CHECK(err_many < 0.25 * err_few);
    CHECK(err_many < 0.03);
    if (name == "ddim") {
      ddim_few = err_few;
      ddim_many = err_many;
    } else {
      CHECK(err_few < ddim_few);
      CHECK(err_many < ddim_many);
    }
    CHECK(std::abs(mean) < 0.07);
    CHECK(std::abs(var - 1.0) < 0.1);
  }
}

TEST_CASE("Gaussian data, exact oracle: stochastic samplers recover mean and variance",
          "[samplers]") {
  const NoiseSchedule s;
  const GaussianData d;
  const EpsModel oracle = gaussian_oracle(s, d);
  const int64_t n = 512;  // × 8 dims = 4096 values
  const auto seq = uniform_steps(1000, 1000);
  const Tensor x_T = start_from_marginal(s, d, 999, n, 12);
  const auto check_moments = [&](const char* what, const SampleResult& r) {
    const auto [mean, var] = standardized_moments(d, r.x0);
    INFO(what << ": standardized mean " << mean << ", variance " << var);
    CHECK(r.nfe == 1000);
    CHECK(std::abs(mean) < 0.07);
    CHECK(std::abs(var - 1.0) < 0.1);
  };
  Generator g1(21), g2(22), g3(23);
  check_moments("ddpm", ddpm_sample(oracle, s, x_T, seq, g1));
  check_moments("ddpm, posterior variance",
                ddpm_sample(oracle, s, x_T, seq, g2, DdpmVariance::Posterior));
  check_moments("ddim eta = 1", ddim_sample(oracle, s, x_T, seq, 1.0, g3));
}

TEST_CASE("slerp: endpoints, constant norm, angle and edge cases", "[samplers]") {
  const Tensor z1 = test::randn64({2, 3, 4, 4}, 31, 1.0, 0.0, false);
  Tensor z2 = test::randn64({2, 3, 4, 4}, 32, 1.0, 0.0, false);
  const auto norm = [](const Tensor& z) { return std::sqrt(sum(square(z)).item()); };
  z2 = mul_scalar(z2, norm(z1) / norm(z2));  // equal norms: slerp stays on the sphere
  test::require_close("a = 0", slerp(z1, z2, 0.0), z1, 1e-12, 1e-12);
  test::require_close("a = 1", slerp(z1, z2, 1.0), z2, 1e-12, 1e-12);
  const double theta = std::acos(sum(mul(z1, z2)).item() / (norm(z1) * norm(z2)));
  const auto w = interpolation_weights();
  REQUIRE(w.size() == 11);
  CHECK(w[0] == 0.0);
  CHECK(w[3] == Approx(0.3));
  CHECK(w[10] == 1.0);
  for (double a : w) {
    const Tensor z = slerp(z1, z2, a);
    CHECK(norm(z) == Approx(norm(z1)).epsilon(1e-12));
    const double cos_angle = sum(mul(z, z1)).item() / (norm(z) * norm(z1));
    const double angle = std::acos(std::clamp(cos_angle, -1.0, 1.0));
    CHECK(angle == Approx(a * theta).margin(1e-7));
  }
  // Linear interpolation would shrink the midpoint of two near-orthogonal vectors by about √2.
  CHECK(norm(add(mul_scalar(z1, 0.5), mul_scalar(z2, 0.5))) < 0.8 * norm(z1));
  test::require_close("parallel", slerp(z1, mul_scalar(z1, 2.0), 0.5), mul_scalar(z1, 1.5), 1e-12,
                      1e-12);
  CHECK_THROWS_WITH(slerp(z1, neg(z1), 0.5), Catch::Contains("opposite directions"));
  CHECK_THROWS_WITH(slerp(z1, Tensor::zeros(z1.shape(), DType::F64), 0.5),
                    Catch::Contains("non-zero"));
  CHECK_THROWS_AS(slerp(z1, z1.reshape({6, 16}), 0.5), Error);
  CHECK_THROWS_AS(interpolation_weights(1), Error);
}
