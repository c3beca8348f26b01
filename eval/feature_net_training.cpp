// The feature network's training loop (feature_net_training.h).
#include "eval/feature_net_training.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "engine/data/data_loader.h"
#include "engine/data/mnist.h"
#include "engine/error.h"
#include "engine/nn/flat_parameters.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"

namespace s2dm {

namespace {

std::shared_ptr<InMemoryDataset> fmnist(const std::string& dir, const std::string& split) {
  MnistOptions o;
  if (!dir.empty()) o.dir = dir;
  o.split = split;
  auto d = load_mnist(o);
  S2DM_CHECK(d->label(0) >= 0, "{} has no labels file next to its images; the feature network "
                               "is trained on labelled Fashion-MNIST", d->describe());
  return d;
}

// The first `limit` images of a data set (all when limit is 0).
class Prefix final : public Dataset {
 public:
  Prefix(std::shared_ptr<const Dataset> d, int64_t limit)
      : d_(std::move(d)), n_(limit > 0 ? std::min(limit, d_->size()) : d_->size()) {}
  int64_t size() const override { return n_; }
  int64_t channels() const override { return d_->channels(); }
  int64_t height() const override { return d_->height(); }
  int64_t width() const override { return d_->width(); }
  void get(int64_t i, float* out) const override { d_->get(i, out); }
  int64_t label(int64_t i) const override { return d_->label(i); }
  std::string describe() const override {
    return fmt::format("the first {} of {}", n_, d_->describe());
  }

 private:
  std::shared_ptr<const Dataset> d_;
  int64_t n_;
};

}  // namespace

double classification_accuracy(const FmnistFeatureNet& net, const Dataset& data, int64_t batch) {
  NoGradGuard no_grad;
  Generator unused(0);
  int64_t right = 0;
  for (int64_t begin = 0; begin < data.size(); begin += batch) {
    const int64_t end = std::min(data.size(), begin + batch);
    std::vector<int64_t> idx(static_cast<size_t>(end - begin));
    for (int64_t i = begin; i < end; ++i) idx[static_cast<size_t>(i - begin)] = i;
    const std::vector<double> z = net.logits(data.get_batch(idx), unused).to_vector();
    for (int64_t i = begin; i < end; ++i) {
      const double* row = z.data() + (i - begin) * FmnistFeatureNet::kClasses;
      const int64_t best = std::max_element(row, row + FmnistFeatureNet::kClasses) - row;
      right += best == data.label(i) ? 1 : 0;
    }
  }
  return static_cast<double>(right) / static_cast<double>(data.size());
}

FeatureNetResult train_feature_net(FmnistFeatureNet& net, const FeatureNetTraining& o) {
  S2DM_CHECK(o.epochs >= 1 && o.batch >= 1 && o.lr > 0, "feature network training: epochs {}, "
             "batch {} and lr {} must be positive", o.epochs, o.batch, o.lr);
  const auto start = std::chrono::steady_clock::now();
  const auto train = std::make_shared<Prefix>(fmnist(o.data_dir, "train"), o.train_limit);
  const auto test = fmnist(o.data_dir, "t10k");
  DataLoaderOptions lo;
  lo.batch_size = std::min(o.batch, train->size());
  lo.random_flip = true;  // garments are mirror-symmetric classes
  lo.seed = o.seed;
  DataLoader loader(train, lo);
  FlatParameters params(net);
  Adam adam(params, AdamConfig{o.lr});
  Generator dropout_gen(o.seed ^ 0xd50d50ULL);
  const int64_t per_epoch = train->size() / lo.batch_size;
  FeatureNetResult r;
  std::vector<double> recent;
  net.train(true);
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    double epoch_loss = 0;
    for (int64_t s = 0; s < per_epoch; ++s) {
      const Batch b = loader.next();
      std::vector<int64_t> labels(b.indices.size());
      for (size_t i = 0; i < labels.size(); ++i) labels[i] = train->label(b.indices[i]);
      const Tensor loss = cross_entropy(net.logits(b.images, dropout_gen), labels);
      params.zero_grad();
      loss.backward();
      // Cosine decay to zero over the run: the last epochs settle instead of hopping around.
      const double progress = static_cast<double>(r.steps) / static_cast<double>(o.epochs * per_epoch);
      adam.config().lr = o.lr * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
      adam.step();
      const double v = loss.item();  // on the CPU a read costs nothing
      S2DM_CHECK(std::isfinite(v), "feature network training: the loss is {} at step {}", v,
                 r.steps + 1);
      epoch_loss += v;
      recent.push_back(v);
      if (recent.size() > 50) recent.erase(recent.begin());
      ++r.steps;
    }
    if (o.log) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      o.log(fmt::format("epoch {}/{}: loss {:.4f}, {:.0f} s", epoch + 1, o.epochs,
                        epoch_loss / static_cast<double>(per_epoch), secs));
    }
  }
  net.train(false);
  double sum = 0;
  for (double v : recent) sum += v;
  r.last_loss = recent.empty() ? 0.0 : sum / static_cast<double>(recent.size());
  r.test_accuracy = classification_accuracy(net, *test);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace s2dm
