// PNDM transfer and the S-/F-PNDM sampling loops.
#include "diffusion/pndm.h"

#include <cmath>
#include <deque>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops/elementwise.h"

namespace s2dm {

Tensor pndm_transfer(const Tensor& x, const Tensor& eps, double a_t, double a_s) {
  S2DM_CHECK(x.shape() == eps.shape(), "pndm_transfer: x {} and eps {} differ in shape", x.str(),
             eps.str());
  S2DM_CHECK(a_t > 0.0 && a_t < 1.0 && a_s > 0.0 && a_s <= 1.0,
             "pndm_transfer: need 0 < a_t < 1 and 0 < a_s <= 1, got {} and {}", a_t, a_s);
  const double d = a_s - a_t;
  const double sa_t = std::sqrt(a_t), sa_s = std::sqrt(a_s);
  const double kx = d / (sa_t * (sa_t + sa_s));
  const double ke = d / (sa_t * (std::sqrt((1.0 - a_s) * a_t) + std::sqrt((1.0 - a_t) * a_s)));
  return add(x, sub(mul_scalar(x, kx), mul_scalar(eps, ke)));
}

SampleResult pndm_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, PndmVariant variant) {
  const char* name = variant == PndmVariant::Second ? "s_pndm_sample" : "f_pndm_sample";
  detail::check_start(name, x_T);
  detail::check_steps(name, schedule, seq);
  NoGradGuard no_grad;
  SampleResult r;
  Tensor x = x_T.detach();
  std::deque<Tensor> history;  // front = newest
  const size_t start_steps = variant == PndmVariant::Second ? 1 : 3;
  for (const auto& [t, s] : detail::step_pairs(seq)) {
    const double a_t = schedule.alpha_bar(t), a_s = schedule.alpha_bar(s);
    const auto tf = static_cast<double>(t), sf = static_cast<double>(s);
    Tensor eps;
    if (history.size() < start_steps) {
      const Tensor e1 = detail::call_model(name, model, x, tf, r.nfe);
      history.push_front(e1);
      if (variant == PndmVariant::Second) {
        const Tensor x2 = pndm_transfer(x, e1, a_t, a_s);
        const Tensor e2 = detail::call_model(name, model, x2, sf, r.nfe);
        eps = mul_scalar(add(e1, e2), 0.5);
      } else {
        const double m = 0.5 * (tf + sf);
        const double a_m = schedule.alpha_bar(static_cast<int64_t>(std::floor(m)));
        const Tensor e2 = detail::call_model(name, model, pndm_transfer(x, e1, a_t, a_m), m, r.nfe);
        const Tensor e3 = detail::call_model(name, model, pndm_transfer(x, e2, a_t, a_m), m, r.nfe);
        const Tensor x4 = pndm_transfer(x, e3, a_t, a_s);
        const Tensor e4 = detail::call_model(name, model, x4, sf, r.nfe);
        eps = mul_scalar(add(add(e1, e4), mul_scalar(add(e2, e3), 2.0)), 1.0 / 6.0);
      }
    } else {
      history.push_front(detail::call_model(name, model, x, tf, r.nfe));
      if (variant == PndmVariant::Second) {
        eps = mul_scalar(sub(mul_scalar(history[0], 3.0), history[1]), 0.5);
      } else {
        eps = mul_scalar(add(sub(mul_scalar(history[0], 55.0), mul_scalar(history[1], 59.0)),
                             sub(mul_scalar(history[2], 37.0), mul_scalar(history[3], 9.0))),
                         1.0 / 24.0);
      }
    }
    if (history.size() > 4) history.pop_back();
    x = pndm_transfer(x, eps, a_t, a_s);
  }
  r.x0 = x;
  return r;
}

}  // namespace s2dm
