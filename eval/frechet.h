// The Fréchet distance between two Gaussians N(μ1, Σ1) and N(μ2, Σ2) (FID on Inception features):
//   d² = |μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 tr √(Σ1 Σ2)
// in float64. tr √(Σ1 Σ2) = Σ_i √λ_i(√Σ1 Σ2 √Σ1): the symmetric PSD matrix √Σ1 Σ2 √Σ1 has the same
// eigenvalues as Σ1 Σ2, and two symmetric eigendecompositions (LAPACK dsyevd) replace the
// general matrix square root (scipy.linalg.sqrtm) that pytorch-fid uses. √Σ1 = V √max(Λ, 0) Vᵀ:
// eigenvalues at rounding level (|λ| <= D·ε·λ_max, negative ones included: Σ from fewer samples
// than dimensions is singular) count as 0, in Σ1 and in the product.
#pragma once

#include "eval/feature_stats.h"

namespace s2dm {

struct FrechetTerms {
  double mean_term = 0;   // |μ1 − μ2|²
  double trace1 = 0;      // tr Σ1
  double trace2 = 0;      // tr Σ2
  double trace_sqrt = 0;  // tr √(Σ1 Σ2)
  double distance = 0;    // mean_term + trace1 + trace2 − 2 trace_sqrt
};

// Fails when D differs, on malformed statistics, and on a Σ that is not positive semi-definite
// (an eigenvalue below −1e-4 times the largest).
FrechetTerms frechet_terms(const FeatureStats& a, const FeatureStats& b);
double frechet_distance(const FeatureStats& a, const FeatureStats& b);

}  // namespace s2dm
