// s2dm-train-features: trains the Fashion-MNIST feature network of `s2dm-fid --features fmnist`
// (models/fmnist_features.h) and writes its weights; the defaults rebuild the file kept in the
// repository (models/weights/fmnist_features.safetensors), seeded, on the CPU.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "engine/cpu/runtime_env.h"
#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "eval/feature_net_training.h"
#include "tools/cli_checks.h"

using namespace s2dm;

namespace {

int run(int argc, char** argv) {
  CLI::App app{"Trains the Fashion-MNIST feature network that s2dm-fid --features fmnist uses, "
               "and reports its test accuracy"};
  std::string out;
  FeatureNetTraining o;
  app.add_option("--out", out, "weights file to write (.safetensors)")->required();
  app.add_option("--data-path", o.data_dir, "Fashion-MNIST folder [Debian's dataset-fashion-mnist]");
  app.add_option("--epochs", o.epochs, "passes over the training images [12]")->check(cli::integer_in(1, 1000));
  app.add_option("--batch", o.batch, "images per step [128]")->check(cli::integer_in(1, 60000));
  app.add_option("--lr", o.lr, "Adam learning rate [0.002]")->check(cli::real_at_least(1e-12));
  app.add_option("--seed", o.seed, "initialisation, data order, flips and dropout [0]");
  app.add_option("--limit", o.train_limit, "train on the first N images only, 0 = all [0]")
      ->check(cli::integer_in(0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  cli::check_output_file("--out", out, {o.data_dir});
  o.log = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  Generator init(o.seed);
  FmnistFeatureNet net(init);
  const FeatureNetResult r = train_feature_net(net, o);
  std::printf("%lld steps in %.0f s; test accuracy %.2f %%\n", static_cast<long long>(r.steps),
              r.seconds, 100.0 * r.test_accuracy);
  const std::map<std::string, std::string> meta{
      {"format", "s2dm-fmnist-features"},
      {"test_accuracy", fmt::format("{:.4f}", r.test_accuracy)},
      {"trained_with", fmt::format("s2dm-train-features --epochs {} --batch {} --lr {} --seed {}{}",
                                   o.epochs, o.batch, o.lr, o.seed,
                                   o.train_limit > 0 ? fmt::format(" --limit {}", o.train_limit) : "")}};
  save_safetensors(out, net.state_dict(), meta);  // atomic
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "s2dm-train-features: error: %s\n", e.what());
    return 1;
  }
}
