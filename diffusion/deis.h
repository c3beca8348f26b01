// DEIS tAB (docs/method.md §6): the exact solution of the VP probability-flow ODE in ε form with
// ε(τ) replaced by the Lagrange polynomial (in τ) through the last r+1 predictions:
//   x_s = Ψ(s,t)·x_t + Σ_j C_j·ε̂_j,  Ψ = √(ᾱ_s/ᾱ_t),
//   C_j = ∫_t^s Ψ(s,τ)·(−½·dlogᾱ/dτ)/√(1−ᾱ_τ)·ℓ_j(τ) dτ = √ᾱ_s · ∫_{ρ_t}^{ρ_s} ℓ_j(τ(ρ)) dρ,
// with ρ = √((1−ᾱ)/ᾱ) over the continuous schedule (log ᾱ linear between integer steps, ᾱ(−1) = 1).
// The ρ form removes the 1/√(1−ᾱ) singularity at τ = −1; the integral is split at every integer
// step and each piece is done by Gauss–Legendre quadrature, where τ(ρ) is smooth.
//
// Invariants: repeated entries of a step list are zero-length steps of the ODE, so DEIS walks the
// distinct steps only (NFE = number of distinct entries); order r ramps up as min(order, k) on the
// k-th step, so the first step is always the DDIM η = 0 step.
#pragma once
#include <vector>

#include "diffusion/sampler.h"

namespace s2dm {

struct DeisStep {
  int64_t t = 0, s = -1;
  double psi = 1.0;            // √(ᾱ_s/ᾱ_t)
  std::vector<int64_t> nodes;  // the prediction times, newest (= t) first
  std::vector<double> coef;    // C_j for the prediction at nodes[j]
};

// The steps and coefficients for a step list (ascending, see timesteps.h) and an order in 0..3,
// computed once per grid.
std::vector<DeisStep> deis_coefficients(const NoiseSchedule& schedule,
                                        const std::vector<int64_t>& seq, int order);

// DEIS's own grid is quadratic in t: pass quadratic_steps(T, S) for it.
SampleResult deis_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, int order);

}  // namespace s2dm
