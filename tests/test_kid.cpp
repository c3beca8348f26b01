// KID: the unbiased polynomial-kernel MMD² by hand and against a naive sum, the subsets
// (sizes, no repeats, seeded), mean and std over subsets, refused inputs. numpy's formula on
// the same subsets is compared in tests/fid_stats_check.py.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "engine/error.h"
#include "eval/kid.h"

using namespace s2dm;
using Catch::Contains;

namespace {

std::vector<double> random_rows(int64_t n, int64_t d, uint64_t seed, double shift = 0) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(static_cast<size_t>(n * d));
  for (double& x : v) x = std::max(0.0, normal(gen) + 0.5 + shift);
  return v;
}

double naive_mmd2(const std::vector<double>& x, const std::vector<double>& y, int64_t m, int64_t d) {
  auto k = [&](const std::vector<double>& p, int64_t i, const std::vector<double>& q, int64_t j) {
    double dot = 0;
    for (int64_t l = 0; l < d; ++l) dot += p[i * d + l] * q[j * d + l];
    return std::pow(dot / d + 1, 3);
  };
  double xx = 0, yy = 0, xy = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      if (i != j) xx += k(x, i, x, j), yy += k(y, i, y, j);
      xy += k(x, i, y, j);
    }
  }
  return (xx + yy) / (m * (m - 1.0)) - 2 * xy / (double(m) * m);
}

}  // namespace

TEST_CASE("KID: the unbiased MMD² by hand", "[fid][kid]") {
  // D = 1, X = {0, 1}, Y = {0, 2}: k(0, 1) = 1 and k(0, 2) = 1 off the diagonals; across,
  // k(0, 0) = k(0, 2) = k(1, 0) = 1 and k(1, 2) = 27. (2 + 2) / 2 − 2 · 30 / 4 = −13.
  const std::vector<double> x = {0, 1}, y = {0, 2};
  CHECK(polynomial_mmd2_unbiased(x.data(), y.data(), 2, 1) == -13.0);
  const std::vector<double> a = random_rows(9, 5, 1), b = random_rows(9, 5, 2, 0.3);
  CHECK(polynomial_mmd2_unbiased(a.data(), b.data(), 9, 5) == Approx(naive_mmd2(a, b, 9, 5)).epsilon(1e-13));
}

TEST_CASE("KID: subsets of the whole set all give the full-set estimate", "[fid][kid]") {
  const int64_t n = 40, d = 6;
  const std::vector<double> a = random_rows(n, d, 3), b = random_rows(n, d, 4, 0.2);
  KidOptions o;
  o.num_subsets = 5;
  const KidResult r = kernel_inception_distance(Tensor::from_vector(a, {n, d}), Tensor::from_vector(b, {n, d}), o);
  CHECK(r.subset_size == n);  // min(1000, 40, 40)
  REQUIRE(r.subset_mmd2.size() == 5);
  const double want = naive_mmd2(a, b, n, d);
  CHECK(want > 0);
  for (double v : r.subset_mmd2) CHECK(v == Approx(want).epsilon(1e-12));
  CHECK(r.mean == Approx(want).epsilon(1e-12));
  CHECK(r.std < 1e-12 * want);
  // float32 features give the same (they are widened to double).
  const std::vector<float> a32(a.begin(), a.end()), b32(b.begin(), b.end());
  const std::vector<double> a_rounded(a32.begin(), a32.end()), b_rounded(b32.begin(), b32.end());
  const KidResult r32 = kernel_inception_distance(Tensor::from_vector(a32, {n, d}), Tensor::from_vector(b32, {n, d}), o);
  CHECK(r32.mean == Approx(naive_mmd2(a_rounded, b_rounded, n, d)).epsilon(1e-12));
}

TEST_CASE("KID: random subsets, mean and std over them, reproducible by seed", "[fid][kid]") {
  const int64_t d = 4;
  const std::vector<double> a = random_rows(70, d, 5), b = random_rows(50, d, 6, 1.5);
  const Tensor ta = Tensor::from_vector(a, {70, d}), tb = Tensor::from_vector(b, {50, d});
  KidOptions o;
  o.num_subsets = 12;
  o.max_subset_size = 20;
  o.seed = 9;
  const KidSubsets s = kid_subsets(70, 50, o);
  CHECK(s.size == 20);
  REQUIRE(s.a.size() == 12 * 20);
  REQUIRE(s.b.size() == 12 * 20);
  for (int64_t k = 0; k < 12; ++k) {
    const std::set<int64_t> sa(s.a.begin() + k * 20, s.a.begin() + (k + 1) * 20);
    const std::set<int64_t> sb(s.b.begin() + k * 20, s.b.begin() + (k + 1) * 20);
    CHECK(sa.size() == 20);  // without replacement
    CHECK(sb.size() == 20);
    CHECK(*sa.rbegin() < 70);
    CHECK(*sb.rbegin() < 50);
  }
  const KidResult r = kernel_inception_distance(ta, tb, o);
  double sum = 0, sq = 0;
  for (int64_t k = 0; k < 12; ++k) {
    std::vector<double> x, y;
    for (int64_t i = 0; i < 20; ++i) {
      x.insert(x.end(), a.begin() + s.a[k * 20 + i] * d, a.begin() + (s.a[k * 20 + i] + 1) * d);
      y.insert(y.end(), b.begin() + s.b[k * 20 + i] * d, b.begin() + (s.b[k * 20 + i] + 1) * d);
    }
    const double v = naive_mmd2(x, y, 20, d);
    CHECK(r.subset_mmd2[k] == Approx(v).epsilon(1e-12));
    sum += v;
    sq += v * v;
  }
  const double mean = sum / 12;
  CHECK(r.mean == Approx(mean).epsilon(1e-12));
  CHECK(r.std == Approx(std::sqrt(sq / 12 - mean * mean)).epsilon(1e-6));
  CHECK(r.mean > 3 * r.std);  // shifted sets: clearly positive

  const KidResult again = kernel_inception_distance(ta, tb, o);
  CHECK(again.subset_mmd2 == r.subset_mmd2);
  o.seed = 10;
  CHECK(kid_subsets(70, 50, o).a != s.a);
  // Defaults: 100 subsets of min(1000, N).
  const KidResult def = kernel_inception_distance(ta, tb);
  CHECK(def.subset_size == 50);
  CHECK(def.subset_mmd2.size() == 100);
}

TEST_CASE("KID: refused inputs", "[fid][kid]") {
  const Tensor a = Tensor::from_vector(random_rows(10, 3, 7), {10, 3});
  CHECK_THROWS_WITH(kernel_inception_distance(a, Tensor::zeros({10, 4})), Contains("D = 3 and D = 4"));
  CHECK_THROWS_WITH(kernel_inception_distance(a, Tensor::zeros({1, 3})), Contains("at least 2 samples"));
  KidOptions o;
  o.num_subsets = 0;
  CHECK_THROWS_WITH(kernel_inception_distance(a, a, o), Contains("num_subsets"));
  o = KidOptions{};
  o.max_subset_size = 1;
  CHECK_THROWS_WITH(kernel_inception_distance(a, a, o), Contains("subset size must be at least 2"));
  std::vector<double> bad = random_rows(10, 3, 8);
  bad[7 * 3 + 1] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(kernel_inception_distance(a, Tensor::from_vector(bad, {10, 3})),
                    Contains("second features") && Contains("sample 7") && Contains("feature 1"));
}
