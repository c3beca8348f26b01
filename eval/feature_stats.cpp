#include "eval/feature_stats.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <string_view>

#include "engine/error.h"
#include "engine/io/npz.h"
#include "eval/host_features.h"

namespace s2dm {

namespace {

// Rows per dsyrk: large enough for GEMM speed, small enough that the float64 copy stays small.
constexpr int64_t kBlockRows = 1024;

// A float32 or float64 member as doubles.
std::vector<double> npz_doubles(const NpzArray& a, const std::string& path) {
  const int64_t n = shape_numel(a.shape);
  std::vector<double> out(static_cast<size_t>(n));
  if (a.descr == "<f8") {
    if (n) std::memcpy(out.data(), a.data.data(), out.size() * sizeof(double));
  } else if (a.descr == "<f4") {
    const auto* p = reinterpret_cast<const unsigned char*>(a.data.data());
    for (int64_t i = 0; i < n; ++i) {
      float v;
      std::memcpy(&v, p + i * 4, 4);
      out[static_cast<size_t>(i)] = v;
    }
  } else {
    fail("{}: '{}' has dtype '{}'; statistics must be float64 ('<f8') or float32 ('<f4')", path, a.name,
         a.descr);
  }
  return out;
}

}  // namespace

void FeatureStatsAccumulator::add(const Tensor& features) {
  const Tensor host = eval_detail::host_features(features, "feature statistics", count_);
  const int64_t n = host.size(0), d = host.size(1);
  if (dim_ == 0) {
    S2DM_CHECK(d <= 65536, "feature statistics: D = {} features is too many (the covariance would take "
               "{} GiB)", d, d * d * 8 >> 30);
  } else {
    S2DM_CHECK(d == dim_, "feature statistics: this batch has D = {} features per sample, earlier batches "
               "had {}; all batches must come from the same feature layer", d, dim_);
  }
  if (n == 0) return;
  dim_ = d;
  const int64_t block = std::min(n, kBlockRows);
  scratch_.resize(static_cast<size_t>(block * d));
  for (int64_t r = 0; r < n; r += block) {
    const int64_t nb = std::min(block, n - r);
    eval_detail::rows_as_double(host, r, nb, scratch_.data());
    add_block(scratch_.data(), nb);
  }
}

void FeatureStatsAccumulator::add(const double* rows, int64_t n, int64_t d) {
  S2DM_CHECK(n >= 0 && d >= 1, "feature statistics: a batch must be [N, D] with D >= 1, got [{}, {}]", n, d);
  std::vector<double> copy(rows, rows + n * d);
  Tensor t = Tensor::from_vector(copy, {n, d}, DType::F64);
  add(t);
}

// Chan et al.'s merge: with this block's mean m_b and centred cross-products M_b,
//   M ← M + M_b + (n_a n_b / n) δδᵀ,  mean ← mean + δ n_b / n,  δ = m_b − mean.
// Centring each block on its own mean keeps the cross-products free of cancellation.
void FeatureStatsAccumulator::add_block(double* rows, int64_t nb) {
  const int64_t d = dim_;
  if (mean_.empty()) {
    mean_.assign(static_cast<size_t>(d), 0.0);
    m2_.assign(static_cast<size_t>(d * d), 0.0);
  }
  std::vector<double> delta(static_cast<size_t>(d), 0.0);
  for (int64_t i = 0; i < nb; ++i) {
    for (int64_t j = 0; j < d; ++j) delta[j] += rows[i * d + j];
  }
  for (int64_t j = 0; j < d; ++j) delta[j] /= static_cast<double>(nb);  // block mean
  for (int64_t i = 0; i < nb; ++i) {
    for (int64_t j = 0; j < d; ++j) rows[i * d + j] -= delta[j];
  }
  const int di = static_cast<int>(d);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, static_cast<int>(nb), 1.0, rows, di, 1.0, m2_.data(),
              di);
  const double na = static_cast<double>(count_), n = static_cast<double>(count_ + nb);
  for (int64_t j = 0; j < d; ++j) delta[j] -= mean_[j];
  if (count_ > 0) cblas_dsyr(CblasRowMajor, CblasUpper, di, na * static_cast<double>(nb) / n, delta.data(), 1,
                             m2_.data(), di);
  for (int64_t j = 0; j < d; ++j) mean_[j] += delta[j] * static_cast<double>(nb) / n;
  count_ += nb;
}

FeatureStats FeatureStatsAccumulator::stats() const {
  S2DM_CHECK(count_ >= 2, "feature statistics need at least 2 samples, got {}: the covariance divides by "
             "N - 1", count_);
  FeatureStats s;
  s.count = count_;
  s.mu = mean_;
  const int64_t d = dim_;
  s.sigma.resize(static_cast<size_t>(d * d));
  const double scale = 1.0 / static_cast<double>(count_ - 1);
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = i; j < d; ++j) {
      const double v = m2_[i * d + j] * scale;
      s.sigma[i * d + j] = v;
      s.sigma[j * d + i] = v;
    }
  }
  return s;
}

FeatureStats feature_stats(const Tensor& features) {
  FeatureStatsAccumulator acc;
  acc.add(features);
  return acc.stats();
}

void save_feature_stats(const std::string& path, const FeatureStats& stats) {
  const int64_t d = stats.dim();
  S2DM_CHECK(d >= 1 && stats.sigma.size() == static_cast<size_t>(d * d),
             "cannot save feature statistics to {}: mu has {} values and sigma {}; sigma must hold D x D",
             path, d, stats.sigma.size());
  auto bytes = [](const std::vector<double>& v) {
    return std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  };
  save_npz(path, std::vector<NpzEntry>{{"mu", "<f8", {d}, bytes(stats.mu)},
                                       {"sigma", "<f8", {d, d}, bytes(stats.sigma)}});
}

FeatureStats load_feature_stats(const std::string& path) {
  const std::vector<NpzArray> arrays = load_npz(path);
  const NpzArray& mu = find_npz_array(arrays, "mu", path);
  const NpzArray& sigma = find_npz_array(arrays, "sigma", path);
  S2DM_CHECK(mu.shape.size() == 1 && mu.shape[0] >= 1,
             "{}: 'mu' has shape {}; it must be a vector [D] (pytorch-fid's statistics format)", path,
             shape_str(mu.shape));
  const int64_t d = mu.shape[0];
  S2DM_CHECK(sigma.shape.size() == 2, "{}: 'sigma' has shape {}; it must be a matrix [D, D]", path,
             shape_str(sigma.shape));
  S2DM_CHECK(sigma.shape[0] == sigma.shape[1], "{}: 'sigma' has shape {}; a covariance matrix must be square",
             path, shape_str(sigma.shape));
  S2DM_CHECK(sigma.shape[0] == d, "{}: 'sigma' is {} but 'mu' has D = {}; they must describe the same features",
             path, shape_str(sigma.shape), d);
  FeatureStats s;
  s.mu = npz_doubles(mu, path);
  s.sigma = npz_doubles(sigma, path);
  for (int64_t i = 0; i < d; ++i) {
    S2DM_CHECK(std::isfinite(s.mu[i]), "{}: 'mu' holds a non-finite value ({}) at {}", path, s.mu[i], i);
  }
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      const double v = s.sigma[i * d + j];
      S2DM_CHECK(std::isfinite(v), "{}: 'sigma' holds a non-finite value ({}) at [{}, {}]", path, v, i, j);
    }
  }
  // Only one triangle enters the eigendecomposition, so an asymmetric matrix would pass silently.
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = i + 1; j < d; ++j) {
      const double a = s.sigma[i * d + j], b = s.sigma[j * d + i];
      const double scale = std::sqrt(std::abs(s.sigma[i * d + i] * s.sigma[j * d + j]));
      S2DM_CHECK(std::abs(a - b) <= 1e-6 * scale + 1e-300,
                 "{}: 'sigma' is not symmetric (sigma[{}, {}] = {}, sigma[{}, {}] = {}); it must be a "
                 "covariance matrix", path, i, j, a, j, i, b);
    }
  }
  return s;
}

}  // namespace s2dm
