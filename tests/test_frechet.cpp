// The Fréchet distance: closed forms (1-D, diagonal, commuting, singular Σ), equal statistics,
// symmetry and refused statistics. pytorch-fid's calculate_frechet_distance is compared in
// tests/fid_stats_check.py.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "engine/error.h"
#include "eval/feature_stats.h"
#include "eval/frechet.h"

using namespace s2dm;
using Catch::Contains;

namespace {

FeatureStats make_stats(std::vector<double> mu, std::vector<double> sigma) {
  FeatureStats s;
  s.mu = std::move(mu);
  s.sigma = std::move(sigma);
  return s;
}

std::vector<double> diag(const std::vector<double>& v) {
  const size_t d = v.size();
  std::vector<double> m(d * d, 0.0);
  for (size_t i = 0; i < d; ++i) m[i * d + i] = v[i];
  return m;
}

// A random orthogonal matrix (Gram–Schmidt), row-major.
std::vector<double> random_orthogonal(int64_t d, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  std::vector<double> q(static_cast<size_t>(d * d));
  for (double& v : q) v = normal(gen);
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t k = 0; k < i; ++k) {
      double dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += q[i * d + j] * q[k * d + j];
      for (int64_t j = 0; j < d; ++j) q[i * d + j] -= dot * q[k * d + j];
    }
    double norm = 0;
    for (int64_t j = 0; j < d; ++j) norm += q[i * d + j] * q[i * d + j];
    for (int64_t j = 0; j < d; ++j) q[i * d + j] /= std::sqrt(norm);
  }
  return q;
}

// Qᵀ diag(λ) Q.
std::vector<double> rotate(const std::vector<double>& q, const std::vector<double>& lambda) {
  const size_t d = lambda.size();
  std::vector<double> m(d * d, 0.0);
  for (size_t a = 0; a < d; ++a)
    for (size_t b = 0; b < d; ++b)
      for (size_t k = 0; k < d; ++k) m[a * d + b] += q[k * d + a] * lambda[k] * q[k * d + b];
  return m;
}

}  // namespace

TEST_CASE("Fréchet distance: 1-D Gaussians, (μ1 − μ2)² + (σ1 − σ2)²", "[fid][frechet]") {
  const FrechetTerms t = frechet_terms(make_stats({1}, {4}), make_stats({3}, {9}));
  CHECK(t.mean_term == 4.0);
  CHECK(t.trace1 == 4.0);
  CHECK(t.trace2 == 9.0);
  CHECK(t.trace_sqrt == Approx(6.0).epsilon(1e-14));
  CHECK(t.distance == Approx(5.0).epsilon(1e-14));  // 2² + (2 − 3)²
}

TEST_CASE("Fréchet distance: diagonal and commuting covariances have a closed form", "[fid][frechet]") {
  const std::vector<double> a = {0.5, 2, 7, 1e-3, 3}, b = {1, 1, 4, 2e-3, 0.25};
  const std::vector<double> mu1 = {0, 1, 2, 3, 4}, mu2 = {1, 1, 0, 3, 3.5};
  double want = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    want += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + std::pow(std::sqrt(a[i]) - std::sqrt(b[i]), 2);
  }
  CHECK(frechet_distance(make_stats(mu1, diag(a)), make_stats(mu2, diag(b))) == Approx(want).epsilon(1e-13));
  // The same eigenvalues in a shared random basis: Σ1 and Σ2 commute, √(Σ1Σ2) = Qᵀ√(ab)Q.
  const std::vector<double> q = random_orthogonal(5, 11);
  const double got = frechet_distance(make_stats(mu1, rotate(q, a)), make_stats(mu2, rotate(q, b)));
  CHECK(got == Approx(want).epsilon(1e-12));
}

TEST_CASE("Fréchet distance: singular covariances clamp rounding-level eigenvalues", "[fid][frechet]") {
  // Σ1 = diag(4, 0, 0), Σ2 = diag(1, 9, 0): d² = |Δμ|² + (2 − 1)² + 9 + 0.
  CHECK(frechet_distance(make_stats({0, 0, 0}, diag({4, 0, 0})), make_stats({0, 1, 0}, diag({1, 9, 0}))) ==
        Approx(1.0 + 1.0 + 9.0).epsilon(1e-14));
  // Rank 2 of 6 in a random basis, where rounding leaves eigenvalues of ±1e-16 instead of 0.
  const std::vector<double> q = random_orthogonal(6, 12);
  const std::vector<double> a = {0, 0, 0, 0, 2, 5}, b = {0, 0, 0, 3, 1, 5};
  const double want = std::pow(std::sqrt(2.0) - 1, 2) + 3;  // the λ = 5 pair cancels
  CHECK(frechet_distance(make_stats(std::vector<double>(6, 0.0), rotate(q, a)),
                         make_stats(std::vector<double>(6, 0.0), rotate(q, b))) == Approx(want).epsilon(1e-12));
}

TEST_CASE("Fréchet distance: equal statistics give ~0, order does not matter", "[fid][frechet]") {
  // 50 samples of 64 features: Σ has rank 49.
  std::mt19937_64 gen(13);
  std::normal_distribution<double> normal;
  std::vector<double> x(50 * 64), y(50 * 64);
  for (double& v : x) v = std::max(0.0, normal(gen) + 0.3);
  for (double& v : y) v = std::max(0.0, 1.2 * normal(gen) + 0.2);
  const FeatureStats a = feature_stats(Tensor::from_vector(x, {50, 64}));
  const FeatureStats b = feature_stats(Tensor::from_vector(y, {50, 64}));
  const FrechetTerms same = frechet_terms(a, a);
  CHECK(std::abs(same.distance) < 1e-10 * same.trace1);
  CHECK(same.trace_sqrt == Approx(same.trace1).epsilon(1e-12));
  const double ab = frechet_distance(a, b), ba = frechet_distance(b, a);
  CHECK(ab > 1.0);
  CHECK(ab == Approx(ba).epsilon(1e-10));
}

TEST_CASE("Fréchet distance: refused statistics", "[fid][frechet]") {
  const FeatureStats ok2 = make_stats({0, 0}, diag({1, 1}));
  const FeatureStats ok3 = make_stats({0, 0, 0}, diag({1, 1, 1}));
  CHECK_THROWS_WITH(frechet_distance(ok2, ok3), Contains("D = 2 and D = 3"));
  CHECK_THROWS_WITH(frechet_distance(FeatureStats{}, ok2), Contains("first statistics are empty"));
  CHECK_THROWS_WITH(frechet_distance(ok2, make_stats({0, 0}, {1, 0, 0})), Contains("second") && Contains("needs 4"));
  CHECK_THROWS_WITH(frechet_distance(make_stats({0, 0}, diag({1, -1})), ok2),
                    Contains("first statistics is not positive semi-definite"));
  CHECK_THROWS_WITH(frechet_distance(ok2, make_stats({0, 0}, diag({1, -1}))),
                    Contains("second statistics is not positive semi-definite"));
}
