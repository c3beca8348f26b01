// The S²-DM loss (formulas in s2dm_loss.h): the per-sample coefficients are computed here on the
// host from t and the schedule, with the t < skip mask and τ folded into the weights; the fused
// engine op skip_loss does the rest in one pass over the tensors and records the gradient.
#include "diffusion/s2dm_loss.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops/loss.h"

namespace s2dm {

void validate(const S2dmLossOptions& options) {
  S2DM_CHECK(std::isfinite(options.tau) && options.tau >= 0.0 && options.tau <= 1.0,
             "s2dm_loss: tau must lie in [0, 1], got {}", options.tau);
  S2DM_CHECK(options.skip >= 1, "s2dm_loss: skip must be at least 1, got {}", options.skip);
}

namespace {

void check_like(const char* name, const Tensor& x, const Tensor& out) {
  S2DM_CHECK(x.defined(), "s2dm_loss: {} is undefined", name);
  S2DM_CHECK(x.shape() == out.shape(), "s2dm_loss: {} {} and out {} differ in shape", name,
             x.str(), out.str());
  S2DM_CHECK(x.dtype() == out.dtype() && x.device() == out.device(),
             "s2dm_loss: {} {} and out {} differ in dtype or device", name, x.str(), out.str());
}

}  // namespace

S2dmLoss s2dm_loss(const NoiseSchedule& schedule, const Tensor& out, const Tensor& eps1,
                   const Tensor& eps2, const std::vector<int64_t>& t,
                   const S2dmLossOptions& options) {
  validate(options);
  S2DM_CHECK(out.defined() && out.dim() >= 2 && out.size(0) >= 1,
             "s2dm_loss: out must be a batch [B, ...] with B >= 1, got {}",
             out.defined() ? out.str() : std::string("an undefined tensor"));
  check_like("eps1", eps1, out);
  if (!options.same_noise) check_like("eps2", eps2, out);
  const int64_t batch = out.size(0);
  S2DM_CHECK(static_cast<int64_t>(t.size()) == batch, "s2dm_loss: {} time steps for a batch of {}",
             t.size(), batch);

  SkipLossWeights w{std::vector<double>(t.size()), std::vector<double>(t.size()),
                    std::vector<double>(t.size())};
  std::vector<bool> applies(t.size());
  int64_t skip_count = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    S2DM_CHECK(t[i] >= 0 && t[i] < schedule.num_steps(),
               "s2dm_loss: time step {} of sample {} is outside [0, {}]", t[i], i,
               schedule.num_steps() - 1);
    const double a_skip =
        schedule.alpha_bar(t[i]) / schedule.alpha_bar(std::max<int64_t>(t[i] - options.skip, 0));
    w.c[i] = std::sqrt((1.0 - a_skip) / a_skip);
    applies[i] = t[i] >= options.skip;
    skip_count += applies[i] ? 1 : 0;
    w.w0[i] = applies[i] ? options.tau : 1.0;
    w.wskip[i] = applies[i] ? 1.0 - options.tau : 0.0;
  }

  const SkipLossResult fused = skip_loss(out, eps1, options.same_noise ? eps1 : eps2, w,
                                         options.sum_over_pixels);
  S2dmLoss result;
  result.loss = fused.loss;
  result.skip_count = skip_count;
  for (double v : fused.l0.to_vector()) result.l0_mean += v;
  result.l0_mean /= static_cast<double>(batch);
  if (skip_count > 0) {
    const auto ls = fused.lskip.to_vector();
    for (size_t i = 0; i < ls.size(); ++i) {
      if (applies[i]) result.lskip_mean += ls[i];
    }
    result.lskip_mean /= static_cast<double>(skip_count);
  }
  return result;
}

}  // namespace s2dm
