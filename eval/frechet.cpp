#include "eval/frechet.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

#include "engine/error.h"
#include "eval/lapack.h"

namespace s2dm {

namespace {

void check_stats(const FeatureStats& s, const char* which) {
  const int64_t d = s.dim();
  S2DM_CHECK(d >= 1, "Fréchet distance: the {} statistics are empty (mu has no values)", which);
  S2DM_CHECK(s.sigma.size() == static_cast<size_t>(d * d),
             "Fréchet distance: the {} statistics have mu of D = {} but sigma with {} values (needs {})", which,
             d, s.sigma.size(), d * d);
  S2DM_CHECK(d <= INT_MAX, "Fréchet distance: D = {} is too large for LAPACK", d);
}

// A negative eigenvalue beyond rounding means the matrix is no covariance: refuse rather than
// clamp it away.
void check_psd(const std::vector<double>& eig, const char* which) {
  const double largest = std::max(eig.back(), 0.0);
  S2DM_CHECK(eig.front() >= -1e-4 * largest,
             "Fréchet distance: sigma of the {} statistics is not positive semi-definite (smallest "
             "eigenvalue {}, largest {}); it must be a covariance matrix",
             which, eig.front(), eig.back());
}

// Eigenvalues up to n·ε·λ_max are rounding noise of a singular matrix (few samples for many
// dimensions); their square roots (~√ε) would otherwise add noise to the trace.
double rounding_floor(const std::vector<double>& eig) {
  return static_cast<double>(eig.size()) * std::numeric_limits<double>::epsilon() * std::max(eig.back(), 0.0);
}

}  // namespace

FrechetTerms frechet_terms(const FeatureStats& a, const FeatureStats& b) {
  check_stats(a, "first");
  check_stats(b, "second");
  S2DM_CHECK(a.dim() == b.dim(),
             "Fréchet distance: the statistics have different dimensions (D = {} and D = {}); both must "
             "come from the same feature layer (pytorch-fid's 2048-d pool features, say)",
             a.dim(), b.dim());
  const int64_t d = a.dim();
  const int n = static_cast<int>(d);
  FrechetTerms t;
  for (int64_t i = 0; i < d; ++i) {
    const double diff = a.mu[i] - b.mu[i];
    t.mean_term += diff * diff;
    t.trace1 += a.sigma[i * d + i];
    t.trace2 += b.sigma[i * d + i];
  }

  // Σ1 = V Λ Vᵀ. With W = √Λ⁺ Vᵀ (rows for the positive eigenvalues only), W Σ2 Wᵀ = Vᵀ(√Σ1 Σ2 √Σ1)V
  // restricted to Σ1's range: the same nonzero eigenvalues, from a smaller matrix when Σ1 is
  // singular.
  std::vector<double> v = a.sigma;
  const std::vector<double> lambda = eval_detail::symmetric_eigen(v, n, true, "Fréchet distance (first sigma)");
  check_psd(lambda, "first");
  std::vector<double> w;
  w.reserve(v.size());
  int rank = 0;
  const double floor1 = rounding_floor(lambda);
  for (int k = 0; k < n; ++k) {
    if (lambda[k] <= floor1) continue;
    const double s = std::sqrt(lambda[k]);
    for (int64_t j = 0; j < d; ++j) w.push_back(s * v[k * d + j]);
    ++rank;
  }
  if (rank > 0) {
    std::vector<double> ws2(static_cast<size_t>(rank) * d), m(static_cast<size_t>(rank) * rank);
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, rank, n, 1.0, b.sigma.data(), n, w.data(), n, 0.0,
                ws2.data(), n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rank, rank, n, 1.0, ws2.data(), n, w.data(), n, 0.0,
                m.data(), rank);
    const std::vector<double> mu = eval_detail::symmetric_eigen(m, rank, false, "Fréchet distance (product)");
    S2DM_CHECK(mu.front() >= -1e-4 * std::max(mu.back(), 0.0),
               "Fréchet distance: sigma of the second statistics is not positive semi-definite (the "
               "product with the first has eigenvalue {}, largest {}); it must be a covariance matrix",
               mu.front(), mu.back());
    const double floor2 = rounding_floor(mu);
    for (double x : mu) t.trace_sqrt += x > floor2 ? std::sqrt(x) : 0.0;
  }
  t.distance = t.mean_term + t.trace1 + t.trace2 - 2 * t.trace_sqrt;
  return t;
}

double frechet_distance(const FeatureStats& a, const FeatureStats& b) { return frechet_terms(a, b).distance; }

}  // namespace s2dm
