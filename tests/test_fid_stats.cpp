// Feature statistics for FID: μ and Σ as np.mean / np.cov(rowvar=False) compute them, batch by
// batch; pytorch-fid's .npz format both ways; every refused input. The comparison with numpy and
// pytorch-fid on larger data is tests/fid_stats_check.py.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string_view>

#include "engine/error.h"
#include "engine/io/npz.h"
#include "eval/feature_stats.h"

#include "tests/temp_dir.h"

using namespace s2dm;
using Catch::Contains;
using test::TempDir;

namespace {

std::vector<double> random_rows(int64_t n, int64_t d, uint64_t seed, double offset = 0) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) v[i * d + j] = offset + (j + 1) * normal(gen) + 0.3 * v[i * d + (j ? j - 1 : 0)];
  }
  return v;
}

// Two-pass reference in long double.
FeatureStats two_pass(const std::vector<double>& x, int64_t n, int64_t d) {
  FeatureStats s;
  s.count = n;
  std::vector<long double> mu(static_cast<size_t>(d), 0);
  for (int64_t i = 0; i < n; ++i) for (int64_t j = 0; j < d; ++j) mu[j] += x[i * d + j];
  for (auto& m : mu) m /= n;
  for (auto m : mu) s.mu.push_back(static_cast<double>(m));
  for (int64_t a = 0; a < d; ++a) {
    for (int64_t b = 0; b < d; ++b) {
      long double c = 0;
      for (int64_t i = 0; i < n; ++i) c += (x[i * d + a] - mu[a]) * (x[i * d + b] - mu[b]);
      s.sigma.push_back(static_cast<double>(c / (n - 1)));
    }
  }
  return s;
}

double max_rel_err(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::abs(got[i] - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return err / scale;
}

std::string_view bytes_of(const std::vector<double>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double)};
}

}  // namespace

TEST_CASE("feature stats: a hand-checked 2-D covariance, float32 and float64", "[fid]") {
  // Deviations from the mean (1.5, 1.5): (−1.5, −1.5), (−0.5, 0.5), (0.5, −0.5), (1.5, 1.5):
  // Σxx = Σyy = 5/3, Σxy = 4/3 with the N − 1 = 3 denominator.
  const std::vector<double> x = {0, 0, 1, 2, 2, 1, 3, 3};
  for (DType dt : {DType::F32, DType::F64}) {
    const FeatureStats s = feature_stats(Tensor::from_vector(x, {4, 2}).to(dt));
    CHECK(s.count == 4);
    REQUIRE(s.dim() == 2);
    CHECK(s.mu[0] == 1.5);
    CHECK(s.mu[1] == 1.5);
    CHECK(s.sigma[0] == Approx(5.0 / 3).epsilon(1e-15));
    CHECK(s.sigma[1] == Approx(4.0 / 3).epsilon(1e-15));
    CHECK(s.sigma[2] == s.sigma[1]);
    CHECK(s.sigma[3] == Approx(5.0 / 3).epsilon(1e-15));
  }
}

TEST_CASE("feature stats: np.cov(rowvar=False) of a 5 x 3 matrix", "[fid]") {
  // np.mean(X, axis=0) and np.cov(X, rowvar=False) as numpy 1.24 prints them.
  const std::vector<double> x = {1, 2, 0, 4, 1, 3, 2, 2, 5, 0, 3, 1, 3, 7, 2};
  const std::vector<double> mu = {2.0, 3.0, 2.2};
  const std::vector<double> sigma = {2.5, 0.25, 1.5, 0.25, 5.5, -0.75, 1.5, -0.75, 3.7};
  FeatureStatsAccumulator acc;
  acc.add(Tensor::from_vector(x, {5, 3}).slice(0, 0, 2));
  acc.add(Tensor::from_vector(x, {5, 3}).slice(0, 2, 5));
  const FeatureStats s = acc.stats();
  CHECK(max_rel_err(s.mu, mu) < 1e-15);
  CHECK(max_rel_err(s.sigma, sigma) < 1e-15);
}

TEST_CASE("feature stats: any batching gives the statistics of the whole set", "[fid]") {
  const int64_t n = 203, d = 7;
  const std::vector<double> x = random_rows(n, d, 1);
  const FeatureStats ref = two_pass(x, n, d);
  const Tensor all = Tensor::from_vector(x, {n, d});
  for (int64_t batch : {1, 2, 5, 64, 203}) {
    FeatureStatsAccumulator acc;
    for (int64_t r = 0; r < n; r += batch) acc.add(all.slice(0, r, std::min(n, r + batch)));
    const FeatureStats s = acc.stats();
    INFO("batch " << batch);
    CHECK(s.count == n);
    CHECK(max_rel_err(s.mu, ref.mu) < 1e-14);
    CHECK(max_rel_err(s.sigma, ref.sigma) < 1e-13);
  }
  // More rows than one dsyrk block (1024), host rows, and a strided (transposed) view.
  const std::vector<double> big = random_rows(2500, 3, 2);
  FeatureStatsAccumulator acc;
  acc.add(big.data(), 2500, 3);
  const FeatureStats ref_big = two_pass(big, 2500, 3);
  CHECK(max_rel_err(acc.stats().sigma, ref_big.sigma) < 1e-13);
  const Tensor transposed = Tensor::from_vector(big, {3, 2500}).transpose(0, 1);
  const std::vector<double> tb = [&] {
    std::vector<double> v(big.size());
    for (int64_t i = 0; i < 2500; ++i) for (int64_t j = 0; j < 3; ++j) v[i * 3 + j] = big[j * 2500 + i];
    return v;
  }();
  CHECK(max_rel_err(feature_stats(transposed).sigma, two_pass(tb, 2500, 3).sigma) < 1e-13);
}

TEST_CASE("feature stats: a large common offset costs no accuracy", "[fid]") {
  // Features around 1e6 with unit-scale spread: one-pass sums of squares would lose ~12 digits.
  const int64_t n = 600, d = 4;
  const std::vector<double> x = random_rows(n, d, 3, 1e6);
  const FeatureStats ref = two_pass(x, n, d);
  FeatureStatsAccumulator acc;
  for (int64_t r = 0; r < n; r += 50) acc.add(x.data() + r * d, 50, d);
  CHECK(max_rel_err(acc.stats().sigma, ref.sigma) < 1e-9);
  CHECK(max_rel_err(acc.stats().mu, ref.mu) < 1e-15);
}

TEST_CASE("feature stats: features on the simt device are copied to the host", "[fid][simt]") {
  const std::vector<double> x = random_rows(40, 5, 4);
  const FeatureStats host = feature_stats(Tensor::from_vector(x, {40, 5}));
  const FeatureStats dev = feature_stats(Tensor::from_vector(x, {40, 5}).to(Device::simt()));
  CHECK(dev.mu == host.mu);
  CHECK(dev.sigma == host.sigma);
}

TEST_CASE("feature stats: refused inputs", "[fid]") {
  FeatureStatsAccumulator acc;
  CHECK_THROWS_WITH(acc.stats(), Contains("at least 2 samples, got 0"));
  acc.add(Tensor::from_vector(std::vector<double>{1, 2, 3}, {1, 3}));
  CHECK_THROWS_WITH(acc.stats(), Contains("at least 2 samples, got 1"));
  acc.add(Tensor::from_vector(std::vector<double>{4, 5, 6, 7, 8, 9}, {2, 3}));
  CHECK_THROWS_WITH(acc.add(Tensor::zeros({2, 4})), Contains("D = 4") && Contains("had 3"));
  CHECK_THROWS_WITH(acc.add(Tensor::zeros({6})), Contains("[N, D]"));
  CHECK_THROWS_WITH(acc.add(Tensor::zeros({2, 3, 1})), Contains("[N, D]"));
  // The first bad sample is named by its index over all batches; the batch is not added.
  std::vector<float> bad(9, 1.0f);
  bad[1 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  bad[2 * 3 + 0] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(acc.add(Tensor::from_vector(bad, {3, 3})), Contains("sample 4") && Contains("feature 2") &&
                                                                   Contains("nan"));
  CHECK(acc.count() == 3);
  bad[1 * 3 + 2] = 1.0f;
  CHECK_THROWS_WITH(acc.add(Tensor::from_vector(bad, {3, 3})), Contains("sample 5") && Contains("inf"));
  CHECK(acc.count() == 3);
  CHECK(acc.stats().mu[0] == 4.0);
  CHECK_THROWS_WITH(feature_stats(Tensor::zeros({1, 8})), Contains("at least 2 samples"));
}

TEST_CASE("feature stats files: save and load round trip in pytorch-fid's layout", "[fid]") {
  TempDir tmp("fidstats");
  const std::vector<double> x = random_rows(30, 6, 5);
  const FeatureStats s = feature_stats(Tensor::from_vector(x, {30, 6}));
  const std::string path = tmp.file("stats.npz");
  save_feature_stats(path, s);
  // The members numpy sees: mu float64 [6], sigma float64 [6, 6].
  const std::vector<NpzArray> raw = load_npz(path);
  REQUIRE(raw.size() == 2);
  CHECK(raw[0].name == "mu");
  CHECK(raw[0].descr == "<f8");
  CHECK(raw[0].shape == Shape{6});
  CHECK(raw[1].name == "sigma");
  CHECK(raw[1].descr == "<f8");
  CHECK(raw[1].shape == Shape{6, 6});
  const FeatureStats back = load_feature_stats(path);
  CHECK(back.mu == s.mu);
  CHECK(back.sigma == s.sigma);
  CHECK(back.count == 0);  // the format does not record N

  // float32 arrays (and extra members) are accepted.
  std::vector<float> mu32(s.mu.begin(), s.mu.end()), sigma32(s.sigma.begin(), s.sigma.end());
  const std::vector<double> extra = {42};
  save_npz(tmp.file("f32.npz"),
           std::vector<NpzEntry>{{"sigma", "<f4", {6, 6}, {reinterpret_cast<const char*>(sigma32.data()), 144}},
                                 {"n", "<f8", {}, bytes_of(extra)},
                                 {"mu", "<f4", {6}, {reinterpret_cast<const char*>(mu32.data()), 24}}});
  const FeatureStats f = load_feature_stats(tmp.file("f32.npz"));
  for (size_t i = 0; i < 6; ++i) CHECK(f.mu[i] == static_cast<double>(mu32[i]));
  for (size_t i = 0; i < 36; ++i) CHECK(f.sigma[i] == static_cast<double>(sigma32[i]));
}

TEST_CASE("feature stats files: refused files", "[fid]") {
  TempDir tmp("fidstats_bad");
  const std::vector<double> mu = {1, 2, 3}, sigma = {2, 1, 0, 1, 2, 0, 0, 0, 1}, rect(12, 0.0);
  auto write = [&](const std::string& name, const std::vector<NpzEntry>& entries) {
    save_npz(tmp.file(name), entries);
    return tmp.file(name);
  };
  const auto e_mu = NpzEntry{"mu", "<f8", {3}, bytes_of(mu)};
  const auto e_sigma = NpzEntry{"sigma", "<f8", {3, 3}, bytes_of(sigma)};
  CHECK(load_feature_stats(write("ok.npz", {e_mu, e_sigma})).sigma == sigma);

  std::string p = write("no_mu.npz", {e_sigma});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains(p) && Contains("mu") && Contains("sigma"));
  p = write("no_sigma.npz", {e_mu});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains(p) && Contains("'sigma'"));
  p = write("mu_2d.npz", {{"mu", "<f8", {1, 3}, bytes_of(mu)}, e_sigma});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("'mu' has shape [1, 3]") && Contains("vector [D]"));
  p = write("sigma_1d.npz", {e_mu, {"sigma", "<f8", {9}, bytes_of(sigma)}});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("'sigma' has shape [9]") && Contains("[D, D]"));
  p = write("sigma_rect.npz", {e_mu, {"sigma", "<f8", {3, 4}, bytes_of(rect)}});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("[3, 4]") && Contains("square"));
  p = write("mismatch.npz", {{"mu", "<f8", {2}, bytes_of(std::vector<double>{1, 2})}, e_sigma});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("[3, 3]") && Contains("'mu' has D = 2"));
  p = write("int.npz", {{"mu", "<i8", {3}, bytes_of(mu)}, e_sigma});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("'mu' has dtype '<i8'") && Contains("float64"));
  std::vector<double> nan_sigma = sigma;
  nan_sigma[4] = std::numeric_limits<double>::quiet_NaN();
  p = write("nan.npz", {e_mu, {"sigma", "<f8", {3, 3}, bytes_of(nan_sigma)}});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("non-finite") && Contains("[1, 1]"));
  std::vector<double> asym = sigma;
  asym[1] = 1.5;
  p = write("asym.npz", {e_mu, {"sigma", "<f8", {3, 3}, bytes_of(asym)}});
  CHECK_THROWS_WITH(load_feature_stats(p), Contains("not symmetric") && Contains("sigma[0, 1]"));
  {
    std::FILE* f = std::fopen(tmp.file("garbage.npz").c_str(), "wb");
    std::fputs("this is not a zip file at all, not even close", f);
    std::fclose(f);
  }
  CHECK_THROWS_WITH(load_feature_stats(tmp.file("garbage.npz")), Contains("garbage.npz") && Contains("not an .npz"));
  CHECK_THROWS_WITH(load_feature_stats(tmp.file("missing.npz")), Contains("missing.npz"));
  FeatureStats broken;
  broken.mu = mu;
  broken.sigma = {1, 2};
  CHECK_THROWS_WITH(save_feature_stats(tmp.file("broken.npz"), broken), Contains("D x D"));
}
