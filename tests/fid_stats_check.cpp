// s2dm-fid-stats-check: the evaluation statistics from the command line, for the comparison with
// pytorch-fid and numpy (tests/fid_stats_check.py) and for timings. Prints one JSON object.
//
//   stats FEATURES.npz BATCH OUT.npz   statistics of member `features` [N, D], added BATCH rows at a time
//   fd A.npz B.npz                     Fréchet distance of two statistics files, with its terms
//   kid A.npz B.npz SUBSETS MAX_SIZE SEED OUT.npz
//                                      KID of members `features`; OUT gets the subsets' rows
//                                      (subset_a, subset_b: int64 [S, m]) and values (mmd2 [S])
//   bench N D BATCH                    timings: statistics of N x D random float32 features,
//                                      the Fréchet distance at D, KID with the default options
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/cpu/runtime_env.h"
#include "engine/error.h"
#include "engine/io/npz.h"
#include "eval/feature_stats.h"
#include "eval/frechet.h"
#include "eval/kid.h"

using namespace s2dm;
using json = nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Tensor load_features(const std::string& path) {
  const std::vector<NpzArray> arrays = load_npz(path);
  return find_npz_array(arrays, "features", path).to_tensor();
}

json terms_json(const FrechetTerms& t) {
  return {{"fd", t.distance}, {"mean_term", t.mean_term}, {"trace1", t.trace1}, {"trace2", t.trace2},
          {"trace_sqrt", t.trace_sqrt}};
}

// Correlated, non-negative features like pooled ReLU activations: relu(z A + b).
Tensor random_features(int64_t n, int64_t d, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal;
  const int64_t k = 64;  // latent factors
  std::vector<float> a(static_cast<size_t>(k * d)), z(static_cast<size_t>(k)), out(static_cast<size_t>(n * d));
  for (float& v : a) v = normal(gen) * 0.3f;
  for (int64_t i = 0; i < n; ++i) {
    for (float& v : z) v = normal(gen);
    for (int64_t j = 0; j < d; ++j) {
      float s = 0.2f + 0.5f * normal(gen);
      for (int64_t l = 0; l < k; ++l) s += z[l] * a[l * d + j];
      out[i * d + j] = s > 0 ? s : 0;
    }
  }
  return Tensor::from_vector(out, {n, d});
}

int run(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  json out;
  if (mode == "stats" && argc == 5) {
    const Tensor f = load_features(argv[2]);
    const int64_t batch = std::stoll(argv[3]);
    S2DM_CHECK(batch >= 1, "BATCH must be at least 1");
    const auto t0 = std::chrono::steady_clock::now();
    FeatureStatsAccumulator acc;
    for (int64_t r = 0; r < f.size(0); r += batch) acc.add(f.slice(0, r, std::min(f.size(0), r + batch)));
    save_feature_stats(argv[4], acc.stats());
    out = {{"count", acc.count()}, {"dim", acc.dim()}, {"seconds", seconds_since(t0)}};
  } else if (mode == "fd" && argc == 4) {
    const auto t0 = std::chrono::steady_clock::now();
    out = terms_json(frechet_terms(load_feature_stats(argv[2]), load_feature_stats(argv[3])));
    out["seconds"] = seconds_since(t0);
  } else if (mode == "kid" && argc == 8) {
    KidOptions o;
    o.num_subsets = std::stoll(argv[4]);
    o.max_subset_size = std::stoll(argv[5]);
    o.seed = std::stoull(argv[6]);
    const Tensor a = load_features(argv[2]), b = load_features(argv[3]);
    const auto t0 = std::chrono::steady_clock::now();
    const KidResult r = kernel_inception_distance(a, b, o);
    out = {{"kid_mean", r.mean}, {"kid_std", r.std}, {"subset_size", r.subset_size},
           {"seconds", seconds_since(t0)}};
    const KidSubsets s = kid_subsets(a.size(0), b.size(0), o);
    auto bytes = [](const auto& v) {
      return std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
    };
    save_npz(argv[7], std::vector<NpzEntry>{{"subset_a", "<i8", {o.num_subsets, s.size}, bytes(s.a)},
                                            {"subset_b", "<i8", {o.num_subsets, s.size}, bytes(s.b)},
                                            {"mmd2", "<f8", {o.num_subsets}, bytes(r.subset_mmd2)}});
  } else if (mode == "bench" && argc == 5) {
    const int64_t n = std::stoll(argv[2]), d = std::stoll(argv[3]), batch = std::stoll(argv[4]);
    const Tensor f = random_features(n, d, 1), g = random_features(n, d, 2);
    auto t0 = std::chrono::steady_clock::now();
    FeatureStatsAccumulator acc;
    for (int64_t r = 0; r < n; r += batch) acc.add(f.slice(0, r, std::min(n, r + batch)));
    const FeatureStats sf = acc.stats();
    out["stats_seconds"] = seconds_since(t0);
    const FeatureStats sg = feature_stats(g);
    t0 = std::chrono::steady_clock::now();
    out["fd"] = frechet_distance(sf, sg);
    out["fd_seconds"] = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const KidResult k = kernel_inception_distance(f, g);
    out["kid_mean"] = k.mean;
    out["kid_std"] = k.std;
    out["kid_seconds"] = seconds_since(t0);
  } else {
    fail("usage: s2dm-fid-stats-check stats FEATURES.npz BATCH OUT.npz | fd A.npz B.npz | "
         "kid A.npz B.npz SUBSETS MAX_SIZE SEED OUT.npz | bench N D BATCH");
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
