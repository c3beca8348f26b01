// DDIM (docs/method.md §6, the reference code's generalized_steps): x0̂ from ε̂, then a jump to s
// with a share η of fresh noise. η = 0 is the deterministic probability-flow sampler. No clipping.
#pragma once
#include <vector>

#include "diffusion/sampler.h"
#include "engine/ops/random.h"

namespace s2dm {

// One step from ᾱ_t = a_t to ᾱ_s = a_s:
//   x0̂ = (x − √(1−a_t)·ε)/√a_t,  c1 = η·√((1−a_t/a_s)(1−a_s)/(1−a_t)),  c2 = √(1−a_s−c1²),
//   x_s = √a_s·x0̂ + c1·z + c2·ε.
// `noise` (z) is read only when c1 > 0 and may be undefined otherwise. Throws when η makes
// 1−a_s−c1² negative (η well above 1).
Tensor ddim_step(const Tensor& x, const Tensor& eps, double a_t, double a_s, double eta,
                 const Tensor& noise = Tensor());

// The noise coefficient c1 of ddim_step (0 when η = 0 or a_s = a_t).
double ddim_noise_scale(double a_t, double a_s, double eta);

// Samples from x_T along `seq` (ascending, see timesteps.h): one model call per entry, noise from
// `gen` only when η > 0. NFE = seq.size().
SampleResult ddim_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, double eta, Generator& gen);

}  // namespace s2dm
