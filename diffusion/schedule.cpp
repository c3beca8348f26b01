// The linear β schedule and the forward process (see schedule.h for the precision conventions).
#include "diffusion/schedule.h"

#include <cmath>

#include "engine/error.h"
#include "engine/ops/elementwise.h"

namespace s2dm {

NoiseSchedule::NoiseSchedule(int64_t num_steps, double beta_start, double beta_end) {
  S2DM_CHECK(num_steps >= 1, "NoiseSchedule: the number of steps must be at least 1, got {}",
             num_steps);
  S2DM_CHECK(beta_start > 0 && beta_end < 1 && beta_start <= beta_end,
             "NoiseSchedule: need 0 < beta_start <= beta_end < 1, got {} and {}", beta_start,
             beta_end);
  const auto n = static_cast<size_t>(num_steps);
  betas_.resize(n);
  alphas_.resize(n);
  alphas_cumprod_.resize(n);
  // numpy's linspace: start + i·step, with the last value set to the end point exactly.
  const double step = num_steps > 1 ? (beta_end - beta_start) / static_cast<double>(num_steps - 1)
                                    : 0.0;
  double product = 1.0;
  for (size_t i = 0; i < n; ++i) {
    const double b64 = i + 1 == n && n > 1 ? beta_end : static_cast<double>(i) * step + beta_start;
    const float b = static_cast<float>(b64);
    const float a = 1.0f - b;
    product *= static_cast<double>(a);
    betas_[i] = b;
    alphas_[i] = a;
    alphas_cumprod_[i] = static_cast<float>(product);
  }
}

double NoiseSchedule::alpha_bar(int64_t t) const {
  S2DM_CHECK(t >= -1 && t < num_steps(), "alpha_bar: time step {} is outside [-1, {}]", t,
             num_steps() - 1);
  return t < 0 ? 1.0 : alphas_cumprod_[static_cast<size_t>(t)];
}

double NoiseSchedule::alpha_bar_continuous(double tau) const {
  const auto last = static_cast<double>(num_steps() - 1);
  S2DM_CHECK(tau >= -1.0 && tau <= last, "alpha_bar_continuous: time {} is outside [-1, {}]", tau,
             last);
  const auto k = std::min(static_cast<int64_t>(std::floor(tau)), num_steps() - 2);
  if (k < -1) return 1.0;  // only when T = 1 and tau = -1
  const double lo = std::log(alpha_bar(k)), hi = std::log(alpha_bar(k + 1));
  return std::exp(lo + (tau - static_cast<double>(k)) * (hi - lo));
}

std::vector<int64_t> antithetic_timesteps(int64_t batch, int64_t num_steps, Generator& gen) {
  S2DM_CHECK(batch >= 1, "antithetic_timesteps: batch size must be at least 1, got {}", batch);
  S2DM_CHECK(num_steps >= 1, "antithetic_timesteps: number of steps must be at least 1, got {}",
             num_steps);
  const int64_t first = (batch + 1) / 2;
  const auto u = rand({first}, gen, DType::F64).to_vector();
  std::vector<int64_t> t(static_cast<size_t>(batch));
  for (int64_t i = 0; i < first; ++i) {
    // Uniforms lie strictly inside (0, 1); the min() only guards the floor against rounding.
    const auto v = static_cast<int64_t>(std::floor(u[static_cast<size_t>(i)] *
                                                   static_cast<double>(num_steps)));
    t[static_cast<size_t>(i)] = std::min(v, num_steps - 1);
  }
  for (int64_t i = first; i < batch; ++i) {
    t[static_cast<size_t>(i)] = num_steps - 1 - t[static_cast<size_t>(i - first)];
  }
  return t;
}

Tensor time_tensor(const std::vector<int64_t>& t, DType dtype, Device device) {
  std::vector<double> v(t.begin(), t.end());
  return Tensor::from_vector(v, {static_cast<int64_t>(t.size())}, dtype, device);
}

Tensor per_sample(const std::vector<double>& values, int64_t rank, DType dtype, Device device) {
  S2DM_CHECK(rank >= 1, "per_sample: rank must be at least 1, got {}", rank);
  Shape shape(static_cast<size_t>(rank), 1);
  shape[0] = static_cast<int64_t>(values.size());
  return Tensor::from_vector(values, shape, dtype, device);
}

Tensor q_sample(const NoiseSchedule& schedule, const Tensor& x0, const std::vector<int64_t>& t,
                const Tensor& eps) {
  S2DM_CHECK(x0.dim() >= 1, "q_sample: x0 needs a batch dimension, got {}", x0.str());
  S2DM_CHECK(x0.shape() == eps.shape(), "q_sample: x0 {} and eps {} differ in shape", x0.str(),
             eps.str());
  S2DM_CHECK(static_cast<int64_t>(t.size()) == x0.size(0),
             "q_sample: {} time steps for a batch of {}", t.size(), x0.size(0));
  std::vector<double> a(t.size()), b(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    S2DM_CHECK(t[i] >= 0 && t[i] < schedule.num_steps(),
               "q_sample: time step {} of sample {} is outside [0, {}]", t[i], i,
               schedule.num_steps() - 1);
    const double ab = schedule.alpha_bar(t[i]);
    a[i] = std::sqrt(ab);
    b[i] = std::sqrt(1.0 - ab);
  }
  return add(mul(x0, per_sample(a, x0.dim(), x0.dtype(), x0.device())),
             mul(eps, per_sample(b, x0.dim(), x0.dtype(), x0.device())));
}

Tensor q_sample(const Tensor& x0, const Tensor& eps, const Tensor& sqrt_ab,
                const Tensor& sqrt_one_minus_ab) {
  S2DM_CHECK(x0.dim() >= 1, "q_sample: x0 needs a batch dimension, got {}", x0.str());
  S2DM_CHECK(x0.shape() == eps.shape(), "q_sample: x0 {} and eps {} differ in shape", x0.str(),
             eps.str());
  Shape per(static_cast<size_t>(x0.dim()), 1);
  per[0] = x0.size(0);
  for (const Tensor* k : {&sqrt_ab, &sqrt_one_minus_ab})
    S2DM_CHECK(k->dim() == 1 && k->size(0) == x0.size(0),
               "q_sample: a coefficient {} does not match the batch of x0 {}", k->str(), x0.str());
  return add(mul(x0, sqrt_ab.reshape(per)), mul(eps, sqrt_one_minus_ab.reshape(per)));
}

}  // namespace s2dm
