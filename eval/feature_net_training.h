// Training the Fashion-MNIST feature network (models/fmnist_features.h) with s2dm itself: Adam
// (learning rate on a cosine from lr down to 0) on the cross-entropy of shuffled, randomly
// mirrored Fashion-MNIST training images, seeded, so the same options give the same weights on
// the same machine; then the test-set accuracy.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "engine/data/dataset.h"
#include "models/fmnist_features.h"

namespace s2dm {

struct FeatureNetTraining {
  std::string data_dir;    // Fashion-MNIST folder ("" = Debian's dataset-fashion-mnist)
  int64_t epochs = 12;
  int64_t batch = 128;
  double lr = 2e-3;
  uint64_t seed = 0;
  int64_t train_limit = 0;  // use only the first N training images (0 = all 60,000)
  std::function<void(const std::string&)> log;  // progress lines (none when empty)
};

struct FeatureNetResult {
  int64_t steps = 0;
  double last_loss = 0;      // mean cross-entropy over the last 50 steps
  double test_accuracy = 0;  // on the 10,000 test images
  double seconds = 0;
};

// Trains `net` in place (float32, CPU) and measures it on the test split.
FeatureNetResult train_feature_net(FmnistFeatureNet& net, const FeatureNetTraining& options);

// Fraction of `data`'s images whose largest logit is their label (evaluation mode).
double classification_accuracy(const FmnistFeatureNet& net, const Dataset& data,
                               int64_t batch = 500);

}  // namespace s2dm
