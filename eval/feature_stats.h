// Mean and covariance of feature vectors (Inception pool features for FID), accumulated over
// batches, and their .npz files in pytorch-fid's format.
//
// The statistics are float64 whatever the features' dtype: μ = mean of the rows and
// Σ = Σ_i (x_i − μ)(x_i − μ)ᵀ / (N − 1), i.e. np.mean(x, axis=0) and np.cov(x, rowvar=False).
// Batches are merged with Chan et al.'s pairwise update (each batch centred on its own mean, then
// the cross term n_a·n_b/n·δδᵀ), so a large common offset in the features costs no accuracy;
// the cross-products are one OpenBLAS dsyrk per block of rows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

struct FeatureStats {
  int64_t count = 0;          // samples the statistics came from (0: unknown, e.g. loaded from a file)
  std::vector<double> mu;     // [D]
  std::vector<double> sigma;  // [D, D] row-major, symmetric

  int64_t dim() const { return static_cast<int64_t>(mu.size()); }
};

class FeatureStatsAccumulator {
 public:
  FeatureStatsAccumulator() = default;  // D is taken from the first batch

  // A batch of features [N, D] (N >= 1; float32 or float64; any device and layout: copied to
  // the host). Throws on a D that differs from earlier batches and on NaN/Inf (naming the first
  // bad sample by its index over all batches); a rejected batch leaves the accumulator unchanged.
  void add(const Tensor& features);
  // The same for n rows of d doubles on the host, row-major.
  void add(const double* rows, int64_t n, int64_t d);

  int64_t count() const { return count_; }
  int64_t dim() const { return dim_; }
  // μ and Σ so far; needs at least 2 samples.
  FeatureStats stats() const;

 private:
  void add_block(double* rows, int64_t n);  // centres `rows` in place

  int64_t dim_ = 0;
  int64_t count_ = 0;
  std::vector<double> mean_;  // [D]
  std::vector<double> m2_;    // [D, D] Σ (x − mean)(x − mean)ᵀ; upper triangle only
  std::vector<double> scratch_;
};

// Statistics of one [N, D] tensor (N >= 2).
FeatureStats feature_stats(const Tensor& features);

// pytorch-fid's statistics file: an .npz with `mu` (float64 [D]) and `sigma` (float64 [D, D]),
// as np.savez(path, mu=mu, sigma=sigma) writes it. Loading also accepts float32 arrays and
// np.savez_compressed archives (what pytorch-fid --save-stats writes); other members are ignored.
void save_feature_stats(const std::string& path, const FeatureStats& stats);
FeatureStats load_feature_stats(const std::string& path);

}  // namespace s2dm
