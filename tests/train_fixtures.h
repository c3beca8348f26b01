// A tiny data set and training configuration shared by the trainer tests: 8x8 one-channel
// stripes and a two-level UNet with attention and dropout, so a few steps exercise every op.
#pragma once
#include <atomic>
#include <cmath>
#include <string>

#include "diffusion/train/trainer.h"
#include "engine/data/dataset.h"

namespace s2dm::test {

// Tiny images of stripes; optionally NaN from the k-th get() on (to poison a later batch).
class StripeData final : public Dataset {
 public:
  explicit StripeData(int64_t nan_after = -1) : nan_after_(nan_after) {}
  int64_t size() const override { return 40; }
  int64_t channels() const override { return 1; }
  int64_t height() const override { return 8; }
  int64_t width() const override { return 8; }
  void get(int64_t index, float* out) const override {
    const bool poison = nan_after_ >= 0 && calls_.fetch_add(1) >= nan_after_;
    for (int64_t i = 0; i < 64; ++i)
      out[i] = poison ? std::nanf("") : ((i / 8 + index) % 4 < 2 ? 0.8f : -0.8f);
  }
  std::string describe() const override { return "stripes"; }

 private:
  int64_t nan_after_;
  mutable std::atomic<int64_t> calls_{0};
};

inline TrainConfig tiny_config(const std::string& out) {
  TrainConfig c;
  c.preset = "tiny";
  c.model.ch = 8;
  c.model.ch_mult = {1, 2};
  c.model.num_res_blocks = 1;
  c.model.attn_resolutions = {4};
  c.model.resolution = 8;
  c.model.in_channels = c.model.out_channels = 1;
  c.model.groups = 4;
  c.model.dropout = 0.1;  // exercises the dropout stream across resume
  c.batch = 4;
  c.steps = 6;
  c.lr = 1e-3;
  c.ema_decay = 0.9;
  c.out_dir = out;
  c.log_every = 2;
  c.ckpt_every = 3;
  c.sample_every = 0;
  c.sample_count = 4;
  c.sample_steps = 3;
  return c;
}

inline TrainOptions quiet_with(std::shared_ptr<const Dataset> d) {
  TrainOptions o;
  o.dataset = std::move(d);
  o.quiet = true;
  return o;
}

}  // namespace s2dm::test
