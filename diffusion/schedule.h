// The forward process of docs/method.md §2: the linear β schedule, ᾱ, antithetic time sampling and
// q(x_t | x_0).
//
// Invariants:
// - Time is 0-based: t = 0..T−1, and alpha_bar(−1) = 1 by convention (the sampler's last target).
// - β, α and ᾱ hold the values the reference code computes in float32, widened to double: β is
//   linspace(β_start, β_end, T) in float64 rounded to float32; α = 1 − β rounded to float32; ᾱ_t is
//   the running product of those float32 α's accumulated in double and rounded to float32 at every
//   t (what torch's CPU cumprod does on a float32 tensor). Everything derived from them (ratios,
//   square roots, sampler coefficients) is computed in double.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace s2dm {

class NoiseSchedule {
 public:
  explicit NoiseSchedule(int64_t num_steps = 1000, double beta_start = 1e-4,
                         double beta_end = 0.02);

  int64_t num_steps() const { return static_cast<int64_t>(betas_.size()); }
  const std::vector<double>& betas() const { return betas_; }
  const std::vector<double>& alphas() const { return alphas_; }
  const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }

  // ᾱ_t for t in [−1, T−1]; ᾱ(−1) = 1.
  double alpha_bar(int64_t t) const;
  // ᾱ on continuous time τ in [−1, T−1]: log ᾱ interpolated linearly between integer steps (the
  // continuous schedule DEIS integrates over); equals alpha_bar(t) at integers.
  double alpha_bar_continuous(double tau) const;

 private:
  std::vector<double> betas_, alphas_, alphas_cumprod_;
};

// Antithetic time steps for a batch of B: the first ⌈B/2⌉ are drawn uniformly from {0..T−1} (one
// uniform from `gen` each, floored), the rest are T−1−t of the first ones in order, so sample
// ⌈B/2⌉+i pairs with sample i and the pair sums to T−1.
std::vector<int64_t> antithetic_timesteps(int64_t batch, int64_t num_steps, Generator& gen);

// The time steps as a float tensor [B] for a model's input.
Tensor time_tensor(const std::vector<int64_t>& t, DType dtype = DType::F32,
                   Device device = Device::cpu());

// x_t = √ᾱ_t · x0 + √(1−ᾱ_t) · ε with one t per sample (dim 0 of x0). Built from engine ops, so it
// is differentiable in x0 and eps; the result has x0's dtype and device.
Tensor q_sample(const NoiseSchedule& schedule, const Tensor& x0, const std::vector<int64_t>& t,
                const Tensor& eps);
// The same with the coefficients already on x0's device: sqrt_ab = √ᾱ_t and sqrt_one_minus_ab =
// √(1−ᾱ_t), each [B] (a training step passes rows of its one per-step upload).
Tensor q_sample(const Tensor& x0, const Tensor& eps, const Tensor& sqrt_ab,
                const Tensor& sqrt_one_minus_ab);

// A per-sample coefficient tensor [B, 1, ..., 1] of rank `rank` for broadcasting against a batch.
Tensor per_sample(const std::vector<double>& values, int64_t rank, DType dtype, Device device);

}  // namespace s2dm
