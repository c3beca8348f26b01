// DDPM ancestral steps and the sampling loop.
#include "diffusion/ddpm.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops/elementwise.h"

namespace s2dm {

Tensor ddpm_step(const Tensor& x, const Tensor& eps, double a_t, double a_s, DdpmVariance variance,
                 bool add_noise, const Tensor& noise) {
  S2DM_CHECK(x.shape() == eps.shape(), "ddpm_step: x {} and eps {} differ in shape", x.str(),
             eps.str());
  S2DM_CHECK(a_t > 0.0 && a_t < 1.0 && a_s >= a_t && a_s <= 1.0,
             "ddpm_step: need 0 < a_t < 1 and a_t <= a_s <= 1, got {} and {}", a_t, a_s);
  // x̂0 clipped to the data range [-1, 1], on the device.
  const Tensor x0 = clamp(sub(mul_scalar(x, std::sqrt(1.0 / a_t)),
                              mul_scalar(eps, std::sqrt(1.0 / a_t - 1.0))),
                          -1.0, 1.0);
  const double beta = 1.0 - a_t / a_s;
  Tensor mean = add(mul_scalar(x0, std::sqrt(a_s) * beta / (1.0 - a_t)),
                    mul_scalar(x, std::sqrt(1.0 - beta) * (1.0 - a_s) / (1.0 - a_t)));
  if (!add_noise) return mean;
  S2DM_CHECK(noise.defined() && noise.shape() == x.shape(),
             "ddpm_step: adding noise needs a noise tensor of x's shape {}", shape_str(x.shape()));
  const double var = variance == DdpmVariance::Large ? beta : beta * (1.0 - a_s) / (1.0 - a_t);
  return add(mean, mul_scalar(noise, std::sqrt(std::max(var, 0.0))));
}

SampleResult ddpm_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, Generator& gen, DdpmVariance variance) {
  detail::check_start("ddpm_sample", x_T);
  detail::check_steps("ddpm_sample", schedule, seq);
  NoGradGuard no_grad;
  SampleResult r;
  Tensor x = x_T.detach();
  for (const auto& [t, s] : detail::step_pairs(seq)) {
    const Tensor eps = detail::call_model("ddpm_sample", model, x, static_cast<double>(t), r.nfe);
    const bool noisy = t != 0;
    Tensor z;
    if (noisy) z = randn(x.shape(), gen, x.dtype(), x.device());
    x = ddpm_step(x, eps, schedule.alpha_bar(t), schedule.alpha_bar(s), variance, noisy, z);
  }
  r.x0 = x;
  return r;
}

}  // namespace s2dm
