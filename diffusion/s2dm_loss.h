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

struct S2dmLoss {
  Tensor loss;               // scalar, differentiable through `out`
  double l0_mean = 0.0;      // mean of ℓ0 over the whole batch
  double lskip_mean = 0.0;   // mean of ℓskip over the samples with t ≥ skip; 0 when there are none
  int64_t skip_count = 0;    // how many samples had t ≥ skip (the ones lskip_mean averages)
};

// out, eps1 [B, ...] (eps2 too unless same_noise, where it is ignored and may be undefined); one
// time step per sample in [0, T−1]. All tensors share dtype and device; ε1 and ε2 are targets and
// must not require grad. ε2 is drawn by the caller, fresh and independent of ε1, so that this
// function stays deterministic. One fused pass (the engine op skip_loss) computes it all.
S2dmLoss s2dm_loss(const NoiseSchedule& schedule, const Tensor& out, const Tensor& eps1,
                   const Tensor& eps2, const std::vector<int64_t>& t,
                   const S2dmLossOptions& options = {});

// Throws s2dm::Error naming the bad option (τ outside [0, 1] or not finite, skip < 1).
void validate(const S2dmLossOptions& options);

}  // namespace s2dm
