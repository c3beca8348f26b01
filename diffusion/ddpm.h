// DDPM ancestral sampling (docs/method.md §6) on the full 1000 steps or any subsequence, as the
// reference code's ddpm_steps does it: x0̂ clipped to [−1, 1], the posterior mean of
// q(x_s | x_t, x0̂), and noise added on every step except the one from t = 0.
#pragma once
#include <vector>

#include "diffusion/sampler.h"
#include "engine/ops/random.h"

namespace s2dm {

// The step's noise variance, with β = 1 − ᾱ_t/ᾱ_s the jump's effective β.
enum class DdpmVariance {
  Large,      // σ² = β: what the reference DDIM code uses (logvar = log β), the default
  Posterior,  // σ² = β̃ = β·(1−ᾱ_s)/(1−ᾱ_t), the true posterior variance given x0
};

// One step from ᾱ_t = a_t to ᾱ_s = a_s given ε̂; `noise` is used when add_noise (then required).
//   x0̂ = clip(√(1/a_t)·x − √(1/a_t − 1)·ε, −1, 1),  β = 1 − a_t/a_s
//   mean = (√a_s·β·x0̂ + √(1−β)·(1−a_s)·x)/(1−a_t),  x_s = mean + σ·z
Tensor ddpm_step(const Tensor& x, const Tensor& eps, double a_t, double a_s, DdpmVariance variance,
                 bool add_noise, const Tensor& noise = Tensor());

// NFE = seq.size(); one normal draw from `gen` per step with t > 0.
SampleResult ddpm_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, Generator& gen,
                         DdpmVariance variance = DdpmVariance::Large);

}  // namespace s2dm
