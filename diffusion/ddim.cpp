// DDIM steps and the DDIM sampling loop.
#include "diffusion/ddim.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops/elementwise.h"

namespace s2dm {

double ddim_noise_scale(double a_t, double a_s, double eta) {
  S2DM_CHECK(std::isfinite(eta) && eta >= 0.0, "ddim: eta must be a finite value >= 0, got {}",
             eta);
  S2DM_CHECK(a_t > 0.0 && a_t < 1.0 && a_s > 0.0 && a_s <= 1.0,
             "ddim: alpha_bar values must satisfy 0 < a_t < 1 and 0 < a_s <= 1, got {} and {}", a_t,
             a_s);
  if (eta == 0.0) return 0.0;
  const double v = (1.0 - a_t / a_s) * (1.0 - a_s) / (1.0 - a_t);
  return eta * std::sqrt(std::max(v, 0.0));
}

Tensor ddim_step(const Tensor& x, const Tensor& eps, double a_t, double a_s, double eta,
                 const Tensor& noise) {
  S2DM_CHECK(x.shape() == eps.shape(), "ddim_step: x {} and eps {} differ in shape", x.str(),
             eps.str());
  const double c1 = ddim_noise_scale(a_t, a_s, eta);
  double c2_sq = 1.0 - a_s - c1 * c1;
  // Rounding can leave a tiny negative at η = 1; anything larger means η is too big for this jump.
  S2DM_CHECK(c2_sq > -1e-12, "ddim_step: eta = {} is too large for the jump from alpha_bar {} to {}"
             " (1 - a_s - c1^2 = {} < 0)", eta, a_t, a_s, c2_sq);
  c2_sq = std::max(c2_sq, 0.0);
  const Tensor x0 = mul_scalar(sub(x, mul_scalar(eps, std::sqrt(1.0 - a_t))), 1.0 / std::sqrt(a_t));
  Tensor out = add(mul_scalar(x0, std::sqrt(a_s)), mul_scalar(eps, std::sqrt(c2_sq)));
  if (c1 > 0.0) {
    S2DM_CHECK(noise.defined() && noise.shape() == x.shape(),
               "ddim_step: eta > 0 needs a noise tensor of x's shape {}", shape_str(x.shape()));
    out = add(out, mul_scalar(noise, c1));
  }
  return out;
}

SampleResult ddim_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, double eta, Generator& gen) {
  detail::check_start("ddim_sample", x_T);
  detail::check_steps("ddim_sample", schedule, seq);
  S2DM_CHECK(std::isfinite(eta) && eta >= 0.0,
             "ddim_sample: eta must be a finite value >= 0, got {}", eta);
  NoGradGuard no_grad;
  SampleResult r;
  Tensor x = x_T.detach();
  for (const auto& [t, s] : detail::step_pairs(seq)) {
    const Tensor eps = detail::call_model("ddim_sample", model, x, static_cast<double>(t), r.nfe);
    const double a_t = schedule.alpha_bar(t), a_s = schedule.alpha_bar(s);
    Tensor z;
    if (ddim_noise_scale(a_t, a_s, eta) > 0.0) z = randn(x.shape(), gen, x.dtype(), x.device());
    x = ddim_step(x, eps, a_t, a_s, eta, z);
  }
  r.x0 = x;
  return r;
}

}  // namespace s2dm
