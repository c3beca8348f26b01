// Pseudo numerical methods (PNDM, docs/method.md §6): linear multistep on ε̂ with the DDIM η = 0
// step as the transfer, started by pseudo Runge–Kutta (F-PNDM) or pseudo improved Euler (S-PNDM).
#pragma once
#include <vector>

#include "diffusion/sampler.h"

namespace s2dm {

// The transfer φ(x, ε, t→s): the DDIM η = 0 step written without cancellation,
//   x + (a_s − a_t)·[x/(√a_t(√a_t + √a_s)) − ε/(√a_t(√((1−a_s)a_t) + √((1−a_t)a_s)))].
Tensor pndm_transfer(const Tensor& x, const Tensor& eps, double a_t, double a_s);

enum class PndmVariant {
  Second,  // S-PNDM: improved Euler first step, then ε' = (3e0 − e1)/2; NFE = S + 1
  Fourth,  // F-PNDM: three pseudo Runge–Kutta steps, then ε' = (55e0 − 59e1 + 37e2 − 9e3)/24;
           // NFE = S + 9 (4 per step while fewer than 3 steps are done)
};

// The Runge–Kutta midpoint m = (t+s)/2 is passed to the model as a fractional time; its ᾱ is
// ᾱ(⌊m⌋) (so the midpoint of 0 → −1 has ᾱ = 1). Only e1 = ε̂(x, t) of a starting step enters the
// multistep history.
SampleResult pndm_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, PndmVariant variant);

}  // namespace s2dm
