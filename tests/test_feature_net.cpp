// The Fashion-MNIST feature network (models/fmnist_features.h) and its training
// (eval/feature_net_training.h): shapes and input handling, seeded training that learns and
// repeats itself exactly, weights that round-trip, and the committed weights' test accuracy.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "engine/data/mnist.h"
#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "eval/feature_net_training.h"
#include "models/fmnist_features.h"
#include "tests/hashed_values.h"
#include "tests/temp_dir.h"

using namespace s2dm;
namespace fs = std::filesystem;

TEST_CASE("feature net: features of 28x28 images equal those of the same images padded to 32",
          "[eval][features]") {
  Generator init(5);
  FmnistFeatureNet net(init);
  net.train(false);
  const Tensor small = test::hashed_f32({3, 1, 28, 28}, 7, 0.5, 0.5);  // in [0, 1)
  const Tensor padded = pad2d(small, 2, 2, 2, 2, 0.0);
  const Tensor a = net.features(small), b = net.features(padded);
  REQUIRE(a.shape() == Shape{3, FmnistFeatureNet::kFeatures});
  CHECK(a.to_vector() == b.to_vector());
  double positive = 0;
  for (double v : a.to_vector()) {
    REQUIRE(v >= 0.0);  // after ReLU
    positive += v > 0 ? 1 : 0;
  }
  CHECK(positive > 0);
  CHECK_THROWS_WITH(net.features(Tensor::zeros({2, 3, 32, 32})), Catch::Contains("1-channel"));
  CHECK_THROWS_WITH(net.features(Tensor::zeros({2, 1, 64, 64})), Catch::Contains("--features inception"));
}

TEST_CASE("feature net: seeded training learns and repeats bit for bit, weights round-trip",
          "[eval][features]") {
  FeatureNetTraining o;
  o.epochs = 1;
  o.batch = 64;
  o.train_limit = 640;  // 10 steps
  o.seed = 3;
  Generator g1(3), g2(3);
  FmnistFeatureNet a(g1), b(g2);
  const FeatureNetResult ra = train_feature_net(a, o);
  const FeatureNetResult rb = train_feature_net(b, o);
  CHECK(ra.steps == 10);
  CHECK(ra.last_loss < std::log(10.0));  // below chance after ten steps
  CHECK(ra.test_accuracy > 0.3);         // chance is 0.1
  CHECK(ra.test_accuracy == rb.test_accuracy);
  for (const auto& [name, t] : a.state_dict()) CHECK(t.to_vector() == b.state_dict().at(name).to_vector());

  test::TempDir tmp("feature_net");
  const std::string path = (tmp.dir / "net.safetensors").string();
  save_safetensors(path, a.state_dict());
  Generator g3(99);
  FmnistFeatureNet c(g3);
  c.load(path);
  const Tensor x = test::hashed_f32({2, 1, 32, 32}, 1, 0.5, 0.5);
  CHECK(c.features(x).to_vector() == a.features(x).to_vector());
  save_safetensors(path, {{"conv1.weight", Tensor::zeros({1})}});
  CHECK_THROWS_WITH(c.load(path), Catch::Contains("not a Fashion-MNIST feature network file"));
}

TEST_CASE("feature net: the committed weights classify the Fashion-MNIST test split",
          "[eval][features]") {
  const fs::path weights = fs::path(S2DM_SOURCE_DIR) / "models/weights/fmnist_features.safetensors";
  REQUIRE(fs::exists(weights));
  Generator g(0);
  FmnistFeatureNet net(g);
  net.load(weights.string());
  MnistOptions o;
  o.split = "t10k";
  const double acc = classification_accuracy(net, *load_mnist(o));
  CHECK(acc >= 0.91);
  const SafetensorsFile f = load_safetensors(weights.string());
  CHECK(std::abs(std::stod(f.metadata.at("test_accuracy")) - acc) < 1e-4);  // as recorded
}
