// The trainer: bit-exact resume, NaN handling that keeps the last good checkpoint, stop requests,
// checkpoint contents and outputs.
#include <catch2/catch.hpp>
#include <limits>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "diffusion/train/checkpoint.h"
#include "diffusion/train/trainer.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "tests/temp_dir.h"
#include "tests/train_fixtures.h"

using namespace s2dm;
using s2dm::test::StripeData;
using s2dm::test::quiet_with;
using s2dm::test::tiny_config;
namespace fs = std::filesystem;


TEST_CASE("N steps straight equal N/2 + resume + N/2, bit for bit", "[train]") {
  test::TempDir tmp("train");
  const fs::path dir = tmp.dir;
  auto data = std::make_shared<StripeData>();

  TrainConfig straight = tiny_config((dir / "a").string());
  const TrainResult ra = train(straight, quiet_with(data));
  CHECK(ra.step == 6);

  TrainConfig half = tiny_config((dir / "b").string());
  half.steps = 3;
  train(half, quiet_with(data));
  TrainConfig rest = half;
  rest.steps = 6;
  TrainOptions ro = quiet_with(data);
  ro.resume = checkpoint_path(half);
  const TrainResult rb = train(rest, ro);
  CHECK(rb.step == 6);
  CHECK(rb.last_loss == ra.last_loss);

  const auto a = load_safetensors(checkpoint_path(straight)).tensors;
  const auto b = load_safetensors(checkpoint_path(rest)).tensors;
  REQUIRE(a.size() == b.size());
  int compared = 0;
  for (const auto& [name, t] : a) {
    INFO(name);
    REQUIRE(b.count(name) == 1);
    CHECK(t.to_vector() == b.at(name).to_vector());  // exact equality
    ++compared;
  }
  CHECK(compared == 4 * 144);  // model, ema, two Adam moments for each parameter tensor
  // The checkpoint records where to continue.
  const Checkpoint ck = load_checkpoint(checkpoint_path(rest));
  CHECK(ck.state.step == 6);
  CHECK(ck.adam_step == 6);
  CHECK(ck.state.data_epoch * 40 + ck.state.data_position >= 6 * 4);
  CHECK(fs::exists(dir / "a" / "metrics.jsonl"));
  CHECK(fs::exists(dir / "a" / "samples" / "step_0000006.png"));
}

TEST_CASE("a NaN loss stops training and keeps the last good checkpoint", "[train]") {
  test::TempDir tmp("train");
  const fs::path dir = tmp.dir;
  TrainConfig cfg = tiny_config(dir.string());
  cfg.steps = 10;
  // 4 images per step: steps 1-4 are clean (checkpoint at 3), step 5's batch is NaN.
  auto data = std::make_shared<StripeData>(16);
  CHECK_THROWS_WITH(train(cfg, quiet_with(data)),
                    Catch::Contains("step 5: the loss is nan") && Catch::Contains("last good checkpoint"));
  const Checkpoint ck = load_checkpoint(checkpoint_path(cfg));
  CHECK(ck.state.step == 3);
  for (const auto& [name, t] : ck.file.tensors)
    for (double v : t.to_vector()) REQUIRE(std::isfinite(v));
}

TEST_CASE("a stop request checkpoints and returns early", "[train]") {
  test::TempDir tmp("train");
  const fs::path dir = tmp.dir;
  TrainConfig cfg = tiny_config(dir.string());
  std::atomic<int> stop{15};  // already requested: stops before the first step
  TrainOptions o = quiet_with(std::make_shared<StripeData>());
  o.stop_signal = &stop;
  const TrainResult r = train(cfg, o);
  CHECK(r.interrupted);
  CHECK(r.step == 0);
  CHECK(load_checkpoint(checkpoint_path(cfg)).state.step == 0);
}

TEST_CASE("training configs reject bad values and unknown keys", "[train]") {
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"batchsize", 3}}), Catch::Contains("unknown key 'batchsize'"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"lr", -1}}), Catch::Contains("lr must be a finite number > 0"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"lr", std::numeric_limits<double>::infinity()}}),
                    Catch::Contains("lr must be a finite number > 0, got inf"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"loss", {{"skip", 1000}}}}),
                    Catch::Contains("skip must be below the number of diffusion steps T = 1000"));
  CHECK_NOTHROW(TrainConfig::from_json(nlohmann::json{{"loss", {{"skip", 999}}}}));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"batch", 3.5}}), Catch::Contains("'batch' must be an integer, got 3.5"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"seed", -1}}), Catch::Contains("'seed' must be a non-negative integer"));
  CHECK(TrainConfig::from_json(nlohmann::json{{"seed", 7}}).seed == 7);
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"steps", int64_t{1} << 62}}), Catch::Contains("steps must be in [1, 1000000000000]"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"sample_steps", 1001}}), Catch::Contains("sample_steps must be in [1, 1000]"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"loss", {{"same_noise", 1}}}}), Catch::Contains("must be true or false"));
  // Model blocks: numbers that would overflow int, or sizes no network has (found by fuzzing).
  CHECK_THROWS_WITH(UNetConfig::from_json(nlohmann::json{{"ch", 2e112}}), Catch::Contains("'ch' must be an integer"));
  CHECK_THROWS_WITH(UNetConfig::from_json(nlohmann::json{{"ch", int64_t{1} << 40}}), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(UNetConfig::from_json(nlohmann::json{{"ch", 1073741824}, {"ch_mult", {4}}}),
                    Catch::Contains("beyond any real network"));
  CHECK_THROWS_WITH(UNetConfig::from_json(nlohmann::json{{"ch_mult", std::vector<int>(40, 1)}}),
                    Catch::Contains("at most 16 levels"));
  CHECK_THROWS_WITH(UNetConfig::from_json(nlohmann::json{{"ch_mult", "1,2"}}), Catch::Contains("list of integers"));
  CHECK(UNetConfig::from_json(unet_preset("celeba").to_json()).to_json() == unet_preset("celeba").to_json());
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"loss", {{"tau", 2}}}}), Catch::Contains("tau"));
  CHECK_THROWS_WITH(TrainConfig::from_json(nlohmann::json{{"data", {{"kind", "imagenet"}}}}), Catch::Contains("imagenet"));
  CHECK_THROWS_AS(TrainConfig::from_json(nlohmann::json{{"steps", "many"}}), Error);
  const TrainConfig round = TrainConfig::from_json(tiny_config("x").to_json());
  CHECK(round.to_json() == tiny_config("x").to_json());
  TrainConfig c = tiny_config("x");
  c.device = "tpu";
  CHECK_THROWS_WITH(train(c, quiet_with(std::make_shared<StripeData>())), Catch::Contains("unknown device 'tpu'"));
  c.device = "cuda:63";  // missing on every machine, with or without a GPU
  CHECK_THROWS_WITH(train(c, quiet_with(std::make_shared<StripeData>())), Catch::Contains("not available"));
}
