// The kernel inception distance (Bińkowski et al. 2018) as torch-fidelity and clean-fid compute it:
// the unbiased estimate of MMD² with the polynomial kernel k(x, y) = (xᵀy / D + 1)³,
//   MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m−1)) + Σ_{i≠j} k(y_i, y_j) / (m(m−1)) − 2 Σ_{i,j} k(x_i, y_j) / m²,
// on `num_subsets` random subsets of m = min(max_subset_size, N_a, N_b) samples of each set (drawn
// without replacement, independently per subset); the result is the mean and the standard
// deviation (population, ddof 0) over the subsets. Computed in float64 (dsyrk/dgemm).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

struct KidOptions {
  int64_t num_subsets = 100;
  int64_t max_subset_size = 1000;
  uint64_t seed = 0;
};

// Rows of each subset: subset s of A is a[s·size .. (s+1)·size), likewise b. A function of
// (n_a, n_b, options) only: std::mt19937_64 seeded with `seed`, a partial Fisher–Yates shuffle with
// exact (rejection-sampled) bounded draws, A's subset then B's, subset after subset.
struct KidSubsets {
  int64_t size = 0;
  std::vector<int64_t> a, b;
};
KidSubsets kid_subsets(int64_t n_a, int64_t n_b, const KidOptions& options = {});

struct KidResult {
  double mean = 0;
  double std = 0;
  int64_t subset_size = 0;
  std::vector<double> subset_mmd2;  // one estimate per subset
};

// Features [N_a, D] and [N_b, D] (float32/float64, any device); fails on NaN/Inf, differing D,
// fewer than 2 samples or num_subsets < 1.
KidResult kernel_inception_distance(const Tensor& features_a, const Tensor& features_b,
                                    const KidOptions& options = {});

// The unbiased MMD² of m rows x and m rows y of d doubles each (row-major), m >= 2.
double polynomial_mmd2_unbiased(const double* x, const double* y, int64_t m, int64_t d);

}  // namespace s2dm
