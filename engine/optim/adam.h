// Adam over FlatParameters with PyTorch semantics (torch.optim.Adam, amsgrad off), gradient-norm
// clipping folded into the update as a gradient scale (torch.nn.utils.clip_grad_norm_), and the
// optimizer state exposed for checkpoints.
#pragma once
#include <cstdint>

#include "engine/backend.h"
#include "engine/nn/flat_parameters.h"

namespace s2dm {

struct AdamConfig {
  double lr = 2e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

// The factor clip_grad_norm_ multiplies gradients by: min(1, max_norm / (norm + 1e-6)).
// max_norm <= 0 disables clipping.
double clip_coefficient(double grad_norm, double max_norm);

class Ema;

class Adam {
 public:
  Adam(FlatParameters& params, AdamConfig config);
  // One update from params.grads() multiplied by grad_scale (use clip_coefficient).
  void step(double grad_scale = 1.0);
  // step(grad_scale) then ema.update() in one pass over the buffers, with the same results;
  // ema must track the parameters this optimizer updates.
  void step(double grad_scale, Ema& ema);
  // The fused step clipped to max_norm by the squared norm grad_sq (FlatParameters::grad_sq)
  // where it lies, with no host read: the same result as step(clip_coefficient(√grad_sq,
  // max_norm), ema), except that a norm that is not finite leaves parameters, moments and EMA
  // unchanged (the step still counts). The caller checks the norm when it next reads anything.
  void step(const Tensor& grad_sq, double max_norm, Ema& ema);
  int64_t steps() const { return step_; }
  void set_steps(int64_t s) { step_ = s; }
  Tensor& exp_avg() { return m_; }      // first moment, flat
  Tensor& exp_avg_sq() { return v_; }   // second moment, flat
  AdamConfig& config() { return config_; }

 private:
  AdamParams next_step(double grad_scale);  // advances the step count
  void fused_step(const AdamParams& p, const Tensor& grad_sq, Ema& ema);

  FlatParameters& params_;
  AdamConfig config_;
  Tensor m_, v_;
  int64_t step_ = 0;
};

// Exponential moving average of the flat parameter values: ema = decay·ema + (1−decay)·param.
class Ema {
 public:
  Ema(const FlatParameters& params, double decay);
  void update();
  Tensor& values() { return values_; }
  double decay() const { return decay_; }
  const FlatParameters& params() const { return params_; }
  // The EMA weights keyed by parameter name (views into values()).
  std::map<std::string, Tensor> state_dict() const;

 private:
  const FlatParameters& params_;
  Tensor values_;
  double decay_;
};

}  // namespace s2dm
