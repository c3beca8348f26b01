// The per-element Adam and EMA updates, shared by the CPU backend and the CUDA kernels so both
// evaluate the same expressions in the parameter dtype T (as torch.optim.Adam does for float32
// parameters), and the fused Adam + EMA step is the two updates back to back.
//
// Adam (torch semantics, amsgrad off, L2 weight decay added to the gradient):
//   g = grad·grad_scale + wd·p;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p −= lr/(1−β1^t) · m / (√v / √(1−β2^t) + eps)
// EMA: e = decay·e + (1−decay)·p
// Clipping by a squared norm left on the device (grad_sq): grad_scale ×= min(1, max_norm /
// (√grad_sq + 1e-6)) as torch.nn.utils.clip_grad_norm_, read by every thread instead of by the
// host; a norm that is not finite skips the step (nothing is written), so a bad batch cannot
// reach the parameters before the trainer sees it.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"

namespace s2dm::adam {

// The step's scalars in T; the bias corrections are formed in double first.
template <typename T>
struct Coefficients {
  T beta1, beta2, step_size, bias2_sqrt, eps, weight_decay, grad_scale;
  const double* grad_sq = nullptr;  // squared gradient norm in the update's memory, or none
  double max_norm = 0.0;            // clip by grad_sq to this norm; <= 0: no clipping
  double grad_scale_d = 1.0;        // grad_scale in double, for the clip factor to multiply
};

// From Backend's AdamParams (engine/backend.h), which this header cannot include: the kernels
// see nothing of the engine.
template <typename T, typename Params>
inline Coefficients<T> coefficients(const Params& a, const double* grad_sq = nullptr) {
  const double bias1 = 1.0 - std::pow(a.beta1, static_cast<double>(a.step));
  const double bias2_sqrt = std::sqrt(1.0 - std::pow(a.beta2, static_cast<double>(a.step)));
  return {static_cast<T>(a.beta1),      static_cast<T>(a.beta2),
          static_cast<T>(a.lr / bias1), static_cast<T>(bias2_sqrt),
          static_cast<T>(a.eps),        static_cast<T>(a.weight_decay),
          static_cast<T>(a.grad_scale), grad_sq,
          a.max_norm,                   a.grad_scale};
}

S2DM_HD float sqrt_of(float x) { return sqrtf(x); }
S2DM_HD double sqrt_of(double x) { return ::sqrt(x); }

// Folds the clip factor from *grad_sq into grad_scale (the same double arithmetic as the host's
// clip_coefficient, so both paths round alike); false when the norm is NaN or infinite and the
// step must be skipped. Called once per thread before its updates.
template <typename T>
S2DM_HD bool resolve_clip(Coefficients<T>& c) {
  if (c.grad_sq == nullptr) return true;
  const double sq = *c.grad_sq;
  if (!(sq <= 1.7976931348623157e308)) return false;  // NaN or +inf (a sum of squares is >= 0)
  if (c.max_norm > 0) {
    const double factor = c.max_norm / (sqrt_of(sq) + 1e-6);
    if (factor < 1.0) c.grad_scale = static_cast<T>(c.grad_scale_d * factor);
  }
  return true;
}

// kDecay = false: the caller knows weight_decay is 0 (a loop without the test vectorises).
template <bool kDecay = true, typename T>
S2DM_HD void update(const Coefficients<T>& c, T& p, T grad, T& m, T& v) {
  T g = grad * c.grad_scale;
  if (kDecay && c.weight_decay != T(0)) g += c.weight_decay * p;
  m = c.beta1 * m + (T(1) - c.beta1) * g;
  v = c.beta2 * v + (T(1) - c.beta2) * g * g;
  p -= c.step_size * m / (sqrt_of(v) / c.bias2_sqrt + c.eps);
}

// one_minus_decay is 1 − decay formed in double, then rounded to T like decay.
template <typename T>
S2DM_HD T ema(T e, T p, T decay, T one_minus_decay) {
  return decay * e + one_minus_decay * p;
}

}  // namespace s2dm::adam
