// The S²-DM training loss of docs/method.md §3: ℓ0 on the noise that built x_t plus a skip term
// that ties the prediction to the jump from t back to t−skip.
//
// Per sample i (out = ε_θ(x_t, t), reduction R = mean over all non-batch dims, or sum):
//   α_skip = ᾱ_t / ᾱ_{max(t−skip, 0)},  c = √((1 − α_skip) / α_skip)
//   ℓ0 = R((ε1 − out)²),  ℓskip = R((ε2 − c·out)²)
//   ℓ = ℓ0 when t < skip, else τ·ℓ0 + (1 − τ)·ℓskip;   loss = mean over the batch of ℓ.
// Gradients flow through `out` in both terms; nothing is detached. τ = 1 is the plain baseline.
#pragma once
#include <cstdint>
#include <vector>

#include "diffusion/schedule.h"
#include "engine/tensor.h"

namespace s2dm {

struct S2dmLossOptions {
  int64_t skip = 9;              // the jump length; the paper's S²-DM^k uses skip = k − 1
  double tau = 0.99;             // weight of ℓ0 where the skip term applies; 1 = baseline
  bool same_noise = false;       // ε2 = ε1 (the other reading of the paper's equation)
  bool sum_over_pixels = false;  // per-sample SUM over C,H,W instead of the MEAN
};

// Everything a training step needs per sample, computed on the host from the time steps (which
// the host draws) and uploaded in one copy: the rows of one [7, B] device tensor, each a
// contiguous [B] view in the step's dtype.
struct StepCoefficients {
  Tensor table;                   // [7, B], the rows below
  Tensor t;                       // the time steps as the model's float input
  Tensor sqrt_ab, sqrt_one_minus_ab;  // q_sample's √ᾱ_t and √(1 − ᾱ_t)
  Tensor c, w0, wskip;            // skip_loss's weights, τ and the t < skip mask folded in
  Tensor applies;                 // 1 where t ≥ skip, else 0
  int64_t skip_count = 0;         // how many samples have t ≥ skip
};

// Throws s2dm::Error for a time step outside [0, T−1] or bad options.
StepCoefficients step_coefficients(const NoiseSchedule& schedule, const std::vector<int64_t>& t,
                                   const S2dmLossOptions& options, DType dtype, Device device);

// The loss and its two terms' batch sums, left on the device: a training step reads them once
// per log line, not once per step. The means read them back (a device-to-host copy each).
struct S2dmLoss {
  Tensor loss;               // scalar, differentiable through `out`
  Tensor l0_sum;             // [1] Σ ℓ0 over the batch, without gradient
  Tensor lskip_sum;          // [1] Σ ℓskip over the samples with t ≥ skip, without gradient
  int64_t batch = 0;
  int64_t skip_count = 0;    // how many samples had t ≥ skip (the ones lskip_sum adds)

  double l0_mean() const;     // mean of ℓ0 over the whole batch
  double lskip_mean() const;  // mean of ℓskip where t ≥ skip; 0 when there are none
};

// out, eps1 [B, ...] (eps2 too unless same_noise, where it is ignored and may be undefined), and
// the step's coefficients (step_coefficients with the same options). All tensors share dtype and
// device; ε1 and ε2 are targets and must not require grad. ε2 is drawn by the caller, fresh and
// independent of ε1, so that this function stays deterministic. One fused pass (the engine op
// skip_loss) computes the loss; two small reductions the sums. Nothing is copied to the host.
S2dmLoss s2dm_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                   const StepCoefficients& k, const S2dmLossOptions& options = {});

// The same from host time steps in [0, T−1] (one per sample): uploads step_coefficients first.
S2dmLoss s2dm_loss(const NoiseSchedule& schedule, const Tensor& out, const Tensor& eps1,
                   const Tensor& eps2, const std::vector<int64_t>& t,
                   const S2dmLossOptions& options = {});

// Throws s2dm::Error naming the bad option (τ outside [0, 1] or not finite, skip < 1).
void validate(const S2dmLossOptions& options);

}  // namespace s2dm
