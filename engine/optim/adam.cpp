// Adam, gradient clipping coefficient, EMA.
#include "engine/optim/adam.h"

#include <algorithm>

#include "engine/error.h"

namespace s2dm {

double clip_coefficient(double grad_norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  return std::min(1.0, max_norm / (grad_norm + 1e-6));
}

Adam::Adam(FlatParameters& params, AdamConfig config) : params_(params), config_(config) {
  S2DM_CHECK(config.lr >= 0 && config.eps >= 0 && config.beta1 >= 0 && config.beta1 < 1 &&
                 config.beta2 >= 0 && config.beta2 < 1,
             "Adam: invalid hyper-parameters lr={} betas=({}, {}) eps={}", config.lr, config.beta1,
             config.beta2, config.eps);
  const Tensor& v = params.values();
  m_ = Tensor::zeros(v.shape(), v.dtype(), v.device());
  v_ = Tensor::zeros(v.shape(), v.dtype(), v.device());
}

AdamParams Adam::next_step(double grad_scale) {
  ++step_;
  AdamParams p;
  p.lr = config_.lr;
  p.beta1 = config_.beta1;
  p.beta2 = config_.beta2;
  p.eps = config_.eps;
  p.weight_decay = config_.weight_decay;
  p.step = step_;
  p.grad_scale = grad_scale;
  return p;
}

void Adam::step(double grad_scale) {
  const AdamParams p = next_step(grad_scale);
  backend_of(params_.values()).adam_step(params_.values(), params_.grads(), m_, v_, Tensor(), p);
}

void Adam::step(double grad_scale, Ema& ema) { fused_step(next_step(grad_scale), Tensor(), ema); }

void Adam::step(const Tensor& grad_sq, double max_norm, Ema& ema) {
  S2DM_CHECK(grad_sq.defined(), "Adam: clipping needs the squared gradient norm");
  AdamParams p = next_step(1.0);
  p.max_norm = max_norm;
  fused_step(p, grad_sq, ema);
}

void Adam::fused_step(const AdamParams& p, const Tensor& grad_sq, Ema& ema) {
  S2DM_CHECK(&ema.params() == &params_,
             "Adam: the EMA tracks other parameters than this optimizer updates");
  backend_of(params_.values())
      .adam_ema_step(params_.values(), params_.grads(), m_, v_, ema.values(), grad_sq, p,
                     ema.decay());
}

Ema::Ema(const FlatParameters& params, double decay) : params_(params), decay_(decay) {
  S2DM_CHECK(decay >= 0 && decay <= 1, "EMA decay must be in [0, 1], got {}", decay);
  values_ = params.values().detach().clone();
}

void Ema::update() { backend_of(values_).ema_update(values_, params_.values(), decay_); }

std::map<std::string, Tensor> Ema::state_dict() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < params_.named().size(); ++i)
    out.emplace(params_.named()[i].first, params_.view_of(values_, i));
  return out;
}

}  // namespace s2dm
