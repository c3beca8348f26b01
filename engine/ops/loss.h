// Losses: mean squared error, and the fused S²-DM loss.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

// mean((a − b)²) over all elements (composed of elementwise ops and a mean).
Tensor mse_loss(const Tensor& a, const Tensor& b);

// Cross-entropy of logits [B, K] against class labels (one per row, each in [0, K)), averaged over
// the batch, as torch.nn.functional.cross_entropy: mean_b(logsumexp(x_b) − x_b[y_b]). Composed of
// engine ops; the log-sum-exp is shifted by a softmax-weighted row mean so that large logits do
// not overflow, and no log of a probability is taken (a class with probability 0 is fine).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);

// Per-sample coefficients of skip_loss, one entry per sample each.
struct SkipLossWeights {
  std::vector<double> c;      // scale of out in the second residual
  std::vector<double> w0;     // weight of l0 in the loss
  std::vector<double> wskip;  // weight of lskip in the loss
};

struct SkipLossResult {
  Tensor loss;   // scalar, differentiable through out
  Tensor l0;     // [B], without gradient
  Tensor lskip;  // [B], without gradient
};

// The S²-DM loss in one pass over out, eps1 and eps2 [B, ...] (Backend::skip_loss):
//   l0[b] = R((eps1 − out)²),  lskip[b] = R((eps2 − c·out)²),
//   loss = (1/B)·Σ_b (w0·l0 + wskip·lskip),
// R the mean over a sample's elements, or their sum when sum_per_sample. Only out gets a
// gradient: eps1 and eps2 are targets and must not require one. eps2 may be eps1 itself.
SkipLossResult skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                         const SkipLossWeights& weights, bool sum_per_sample = false);
// The same with the weights already on out's device and dtype, each [B] and contiguous (no
// upload: a training step passes rows of its one per-step table).
SkipLossResult skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                         const Tensor& c, const Tensor& w0, const Tensor& wskip,
                         bool sum_per_sample = false);

}  // namespace s2dm
