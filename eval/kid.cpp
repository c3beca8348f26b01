#include "eval/kid.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/error.h"
#include "eval/host_features.h"

namespace s2dm {

namespace {

// Uniform in [0, n) without modulo bias; std::uniform_int_distribution differs between standard
// libraries, this does not.
uint64_t draw_below(std::mt19937_64& gen, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2⁶⁴ mod n: values below it would over-weight small results
  for (;;) {
    const uint64_t r = gen();
    if (r >= threshold) return r % n;
  }
}

void draw_subset(std::mt19937_64& gen, std::vector<int64_t>& perm, int64_t m, std::vector<int64_t>& out) {
  std::iota(perm.begin(), perm.end(), int64_t{0});
  const int64_t n = static_cast<int64_t>(perm.size());
  for (int64_t i = 0; i < m; ++i) {
    const int64_t j = i + static_cast<int64_t>(draw_below(gen, static_cast<uint64_t>(n - i)));
    std::swap(perm[i], perm[j]);
    out.push_back(perm[i]);
  }
}

// Σ over the strict upper triangle of (G/d + 1)³ for the row-major upper triangle of G.
double upper_kernel_sum(const std::vector<double>& g, int64_t m, double inv_d) {
  double sum = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = i + 1; j < m; ++j) {
      const double k = g[i * m + j] * inv_d + 1;
      sum += k * k * k;
    }
  }
  return sum;
}

}  // namespace

KidSubsets kid_subsets(int64_t n_a, int64_t n_b, const KidOptions& options) {
  S2DM_CHECK(options.num_subsets >= 1, "KID: num_subsets must be at least 1, got {}", options.num_subsets);
  S2DM_CHECK(options.max_subset_size >= 2, "KID: the subset size must be at least 2, got {}",
             options.max_subset_size);
  S2DM_CHECK(n_a >= 2 && n_b >= 2,
             "KID needs at least 2 samples in each set, got {} and {} (the unbiased estimate divides by m - 1)",
             n_a, n_b);
  KidSubsets s;
  s.size = std::min({options.max_subset_size, n_a, n_b});
  s.a.reserve(static_cast<size_t>(s.size * options.num_subsets));
  s.b.reserve(static_cast<size_t>(s.size * options.num_subsets));
  std::mt19937_64 gen(options.seed);
  std::vector<int64_t> perm_a(static_cast<size_t>(n_a)), perm_b(static_cast<size_t>(n_b));
  for (int64_t k = 0; k < options.num_subsets; ++k) {
    draw_subset(gen, perm_a, s.size, s.a);
    draw_subset(gen, perm_b, s.size, s.b);
  }
  return s;
}

double polynomial_mmd2_unbiased(const double* x, const double* y, int64_t m, int64_t d) {
  S2DM_CHECK(m >= 2 && d >= 1, "KID: a subset needs m >= 2 samples of D >= 1 features, got m = {}, D = {}", m,
             d);
  S2DM_CHECK(m <= INT_MAX && d <= INT_MAX, "KID: subset {} x {} is too large for BLAS", m, d);
  const int mi = static_cast<int>(m), di = static_cast<int>(d);
  const double inv_d = 1.0 / static_cast<double>(d);
  std::vector<double> g(static_cast<size_t>(m * m));
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, mi, di, 1.0, x, di, 0.0, g.data(), mi);
  const double sxx = 2 * upper_kernel_sum(g, m, inv_d);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, mi, di, 1.0, y, di, 0.0, g.data(), mi);
  const double syy = 2 * upper_kernel_sum(g, m, inv_d);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, mi, di, 1.0, x, di, y, di, 0.0, g.data(), mi);
  double sxy = 0;
  for (const double v : g) {
    const double k = v * inv_d + 1;
    sxy += k * k * k;
  }
  const double md = static_cast<double>(m);
  return (sxx + syy) / (md * (md - 1)) - 2 * sxy / (md * md);
}

KidResult kernel_inception_distance(const Tensor& features_a, const Tensor& features_b, const KidOptions& options) {
  const Tensor a = eval_detail::host_features(features_a, "KID (first features)");
  const Tensor b = eval_detail::host_features(features_b, "KID (second features)");
  const int64_t d = a.size(1);
  S2DM_CHECK(b.size(1) == d,
             "KID: the feature sets have different dimensions (D = {} and D = {}); both must come from the "
             "same feature layer",
             d, b.size(1));
  const KidSubsets subsets = kid_subsets(a.size(0), b.size(0), options);
  const int64_t m = subsets.size;
  KidResult r;
  r.subset_size = m;
  std::vector<double> x(static_cast<size_t>(m * d)), y(static_cast<size_t>(m * d));
  for (int64_t s = 0; s < options.num_subsets; ++s) {
    for (int64_t i = 0; i < m; ++i) {
      eval_detail::row_as_double(a, subsets.a[s * m + i], x.data() + i * d);
      eval_detail::row_as_double(b, subsets.b[s * m + i], y.data() + i * d);
    }
    r.subset_mmd2.push_back(polynomial_mmd2_unbiased(x.data(), y.data(), m, d));
  }
  const double n = static_cast<double>(r.subset_mmd2.size());
  r.mean = std::accumulate(r.subset_mmd2.begin(), r.subset_mmd2.end(), 0.0) / n;
  double var = 0;
  for (const double v : r.subset_mmd2) var += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(var / n);
  return r;
}

}  // namespace s2dm
