// s2dm-fid: FID and KID between two sets of images (or saved statistics), and FID statistics of
// one set, in the engine on the CPU or a GPU; the numbers agree with pytorch-fid's.
//
// Inputs (positional): a data set (fmnist, mnist, cifar10, with :train or :test), a folder of
// PNG/JPEG images, an .npz of uint8 images (arr_0, N×H×W×C: what s2dm-sample --npz writes), or
// an .npz of statistics (mu, sigma: pytorch-fid's format). The features come from pytorch-fid's
// Inception-v3 (--features inception, the published FID) or from the Fashion-MNIST feature
// network (--features fmnist, the FD of small grayscale models, in seconds on a CPU).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/backend.h"
#include "engine/cpu/runtime_env.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "eval/feature_extractor.h"
#include "eval/feature_stats.h"
#include "eval/frechet.h"
#include "eval/image_source.h"
#include "eval/kid.h"
#include "tools/cli_checks.h"

using namespace s2dm;

namespace {

struct Args {
  std::vector<std::string> inputs;
  std::string features = "inception", weights, save_stats, save_features, json, data_path, device = "cpu";
  int64_t batch = 50, limit = 0, kid_subsets = 100, kid_subset_size = 1000;
  uint64_t seed = 0;
  bool no_kid = false, quiet = false;
};

// One input's statistics, and its features when they were computed (for KID).
struct Measured {
  std::string name, describe;
  FeatureStats stats;
  Tensor features;  // [N, D] float32 on the CPU; undefined for a statistics file
  double seconds = 0;
};

Measured measure(const std::string& spec, const Args& a, const FeatureExtractor* net) {
  Measured m;
  m.name = spec;
  if (is_stats_npz(spec)) {
    m.stats = load_feature_stats(spec);
    m.describe = fmt::format("{}: statistics of {} features", spec, m.stats.dim());
    return m;
  }
  const std::unique_ptr<ImageSource> src =
      open_image_source(spec, a.data_path, /*gray_folders=*/a.features == "fmnist");
  const int64_t n = a.limit > 0 ? std::min(a.limit, src->size()) : src->size();
  S2DM_CHECK(n >= 2, "{} has {} image{}; statistics need at least 2", spec, n, n == 1 ? "" : "s");
  m.describe = src->describe() + (n < src->size() ? fmt::format(" (the first {})", n) : "");
  const auto start = std::chrono::steady_clock::now();
  FeatureStatsAccumulator acc;
  m.features = Tensor::empty({n, net->dim()}, DType::F32);
  for (int64_t b = 0; b < n; b += a.batch) {
    const int64_t e = std::min(n, b + a.batch);
    const Tensor f = net->features(src->batch(b, e)).to(Device::cpu()).to(DType::F32);
    acc.add(f);  // checks finiteness, naming the sample
    m.features.slice(0, b, e).copy_(f);
    if (!a.quiet) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\r%s: %lld/%lld images, %.0f img/s   ", spec.c_str(),
                   static_cast<long long>(e), static_cast<long long>(n), static_cast<double>(e) / std::max(s, 1e-9));
      std::fflush(stderr);
    }
  }
  if (!a.quiet) std::fprintf(stderr, "\n");
  m.stats = acc.stats();
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

int run(int argc, char** argv) {
  CLI::App app{
      "FID and KID between two image sets, or the FID statistics of one, agreeing with "
      "pytorch-fid.\n\nINPUT is one of:\n"
      "  fmnist | mnist | cifar10 [:train|:test]  a data set as s2dm-train reads it (--data-path)\n"
      "  DIR                                      a folder of PNG/JPEG images of one size (RGB;\n"
      "                                           grayscale with --features fmnist)\n"
      "  FILE.npz                                 uint8 images N x H x W x C under arr_0 (s2dm-sample --npz)\n"
      "  FILE.npz                                 statistics mu [D], sigma [D, D] (pytorch-fid's format)\n"
      "Images are read as byte / 255; --features inception repeats grayscale to RGB and resizes to\n"
      "299x299 bilinearly, as pytorch-fid does."};
  Args a;
  app.add_option("inputs", a.inputs, "one input (statistics, see --save-stats) or two (FID/KID)")
      ->required()->expected(1, 2);
  app.add_option("--features", a.features,
                 "inception (pytorch-fid's network, 2048-d) or fmnist (Fashion-MNIST network, 128-d) [inception]")
      ->check(CLI::IsMember({"inception", "fmnist"}));
  app.add_option("--weights", a.weights,
                 "network weights [inception: $S2DM_FID_WEIGHTS; fmnist: the repository's]");
  app.add_option("--save-stats", a.save_stats, "write the first input's statistics (.npz: mu, sigma)");
  app.add_option("--save-features", a.save_features,
                 "write the first input's features [N, D] as float32 .npy");
  app.add_option("--json", a.json, "also write the results as JSON to this file");
  app.add_option("--data-path", a.data_path, "folder of the data set inputs [their defaults]");
  app.add_option("--device", a.device, "cpu, cuda or cuda:N [cpu]");
  app.add_option("--batch", a.batch, "images per network call [50]")->check(cli::integer_in(1, 100000));
  app.add_option("--limit", a.limit, "use the first N images of each image input, 0 = all [0]")
      ->check(cli::integer_in(0));
  app.add_option("--kid-subsets", a.kid_subsets, "KID: random subsets averaged [100]")
      ->check(cli::integer_in(1, 100000));
  app.add_option("--kid-subset-size", a.kid_subset_size, "KID: images per subset (at most all) [1000]")
      ->check(cli::integer_in(2));
  app.add_option("--seed", a.seed, "KID: subset draws [0]");
  app.add_flag("--no-kid", a.no_kid, "skip KID");
  app.add_flag("--quiet", a.quiet, "no progress on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  S2DM_CHECK(a.inputs.size() == 2 || !a.save_stats.empty() || !a.save_features.empty(),
             "one input gives statistics only: add --save-stats FILE.npz (or --save-features "
             "FILE.npy), or give a second input to compare with");
  if (!a.save_stats.empty()) cli::check_output_file("--save-stats", a.save_stats, a.inputs);
  if (!a.save_features.empty()) {
    cli::check_output_file("--save-features", a.save_features, a.inputs);
    S2DM_CHECK(!is_stats_npz(a.inputs[0]), "--save-features needs images, and {} holds statistics",
               a.inputs[0]);
  }
  if (!a.json.empty()) cli::check_output_file("--json", a.json, a.inputs);
  const Device device = Device::parse(a.device);
  backend_for(device);  // fails early, with the fix, when the device is unavailable

  const bool any_images = std::any_of(a.inputs.begin(), a.inputs.end(),
                                      [](const std::string& s) { return !is_stats_npz(s); });
  std::unique_ptr<FeatureExtractor> net;
  if (any_images) net = make_feature_extractor(a.features, a.weights, LayerOptions{DType::F32, device});
  std::vector<Measured> m;
  for (const std::string& in : a.inputs) {
    m.push_back(measure(in, a, net.get()));
    if (!a.quiet) std::fprintf(stderr, "%s\n", m.back().describe.c_str());
  }
  nlohmann::json out{{"features", a.features}, {"inputs", a.inputs}};
  for (const Measured& x : m)
    out["counts"].push_back(x.stats.count);
  if (!a.save_stats.empty()) {
    save_feature_stats(a.save_stats, m[0].stats);
    std::printf("wrote %s (%lld-d statistics of %lld images)\n", a.save_stats.c_str(),
                static_cast<long long>(m[0].stats.dim()), static_cast<long long>(m[0].stats.count));
  }
  if (!a.save_features.empty()) {
    save_npy(a.save_features, m[0].features);
    if (!a.quiet) std::printf("wrote %s\n", a.save_features.c_str());
  }
  if (m.size() == 2) {
    S2DM_CHECK(m[0].stats.dim() == m[1].stats.dim(),
               "{} has {}-d statistics and {} {}-d ones: they come from different feature "
               "networks", a.inputs[0], m[0].stats.dim(), a.inputs[1], m[1].stats.dim());
    const FrechetTerms fd = frechet_terms(m[0].stats, m[1].stats);
    const std::string label = a.features == "inception" ? "FID" : "FD (fmnist features)";
    std::printf("%s: %.6f\n", label.c_str(), fd.distance);
    out["fid"] = fd.distance;
    out["frechet_terms"] = {{"mean", fd.mean_term}, {"trace1", fd.trace1}, {"trace2", fd.trace2},
                            {"trace_sqrt", fd.trace_sqrt}};
    if (!a.no_kid && m[0].features.defined() && m[1].features.defined()) {
      KidOptions ko;
      ko.num_subsets = a.kid_subsets;
      ko.max_subset_size = a.kid_subset_size;
      ko.seed = a.seed;
      const KidResult kid = kernel_inception_distance(m[0].features, m[1].features, ko);
      // The spread over subsets (what torch-fidelity reports as kid_std) and the standard error
      // of their mean, std/√subsets (optimistic: the subsets share images).
      const double std_error = kid.std / std::sqrt(static_cast<double>(ko.num_subsets));
      std::printf("KID: %.6f +- %.6f (std over %lld subsets of %lld; standard error %.6f)\n",
                  kid.mean, kid.std, static_cast<long long>(ko.num_subsets),
                  static_cast<long long>(kid.subset_size), std_error);
      out["kid"] = {{"mean", kid.mean},      {"std", kid.std},
                    {"std_error", std_error}, {"subsets", ko.num_subsets},
                    {"subset_size", kid.subset_size}};
    } else if (!a.no_kid && !a.quiet) {
      std::fprintf(stderr, "no KID: it needs the features of both inputs, not saved statistics\n");
    }
  }
  for (const Measured& x : m) out["seconds"].push_back(x.seconds);
  if (!a.json.empty()) write_file_atomic(a.json, out.dump(2) + "\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "s2dm-fid: error: %s\n", e.what());
    return 1;
  }
}
