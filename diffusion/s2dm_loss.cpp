// The S²-DM loss (formulas in s2dm_loss.h): the per-sample coefficients are computed here on the
// host from t and the schedule, with the t < skip mask and τ folded into the weights, and go to
// the device in one upload; the fused engine op skip_loss does the rest in one pass over the
// tensors and records the gradient.
#include "diffusion/s2dm_loss.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/reduce.h"

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

void check_batch(const Tensor& out) {
  S2DM_CHECK(out.defined() && out.dim() >= 2 && out.size(0) >= 1,
             "s2dm_loss: out must be a batch [B, ...] with B >= 1, got {}",
             out.defined() ? out.str() : std::string("an undefined tensor"));
}

}  // namespace

StepCoefficients step_coefficients(const NoiseSchedule& schedule, const std::vector<int64_t>& t,
                                   const S2dmLossOptions& options, DType dtype, Device device) {
  validate(options);
  const int64_t batch = static_cast<int64_t>(t.size());
  S2DM_CHECK(batch >= 1, "step_coefficients: no time steps");
  enum Row { kT, kSqrtAb, kSqrtOneMinusAb, kC, kW0, kWskip, kApplies, kRows };
  std::vector<double> table(static_cast<size_t>(kRows * batch));
  auto at = [&](Row r, int64_t i) -> double& { return table[static_cast<size_t>(r * batch + i)]; };
  StepCoefficients k;
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t ti = t[static_cast<size_t>(i)];
    S2DM_CHECK(ti >= 0 && ti < schedule.num_steps(),
               "s2dm_loss: time step {} of sample {} is outside [0, {}]", ti, i,
               schedule.num_steps() - 1);
    const double ab = schedule.alpha_bar(ti);
    const double a_skip = ab / schedule.alpha_bar(std::max<int64_t>(ti - options.skip, 0));
    const bool applies = ti >= options.skip;
    at(kT, i) = static_cast<double>(ti);
    at(kSqrtAb, i) = std::sqrt(ab);
    at(kSqrtOneMinusAb, i) = std::sqrt(1.0 - ab);
    at(kC, i) = std::sqrt((1.0 - a_skip) / a_skip);
    at(kW0, i) = applies ? options.tau : 1.0;
    at(kWskip, i) = applies ? 1.0 - options.tau : 0.0;
    at(kApplies, i) = applies ? 1.0 : 0.0;
    k.skip_count += applies ? 1 : 0;
  }
  k.table = Tensor::from_vector(table, {kRows, batch}, dtype, device);  // the one upload
  auto row = [&](Row r) { return k.table.slice(0, r, r + 1).view({batch}); };
  k.t = row(kT);
  k.sqrt_ab = row(kSqrtAb);
  k.sqrt_one_minus_ab = row(kSqrtOneMinusAb);
  k.c = row(kC);
  k.w0 = row(kW0);
  k.wskip = row(kWskip);
  k.applies = row(kApplies);
  return k;
}

double S2dmLoss::l0_mean() const { return l0_sum.item() / static_cast<double>(batch); }

double S2dmLoss::lskip_mean() const {
  return skip_count > 0 ? lskip_sum.item() / static_cast<double>(skip_count) : 0.0;
}

S2dmLoss s2dm_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                   const StepCoefficients& k, const S2dmLossOptions& options) {
  validate(options);
  check_batch(out);
  check_like("eps1", eps1, out);
  if (!options.same_noise) check_like("eps2", eps2, out);
  const int64_t batch = out.size(0);
  S2DM_CHECK(k.t.defined() && k.t.size(0) == batch, "s2dm_loss: {} time steps for a batch of {}",
             k.t.defined() ? k.t.size(0) : 0, batch);

  const SkipLossResult fused = skip_loss(out, eps1, options.same_noise ? eps1 : eps2, k.c, k.w0,
                                         k.wskip, options.sum_over_pixels);
  S2dmLoss result;
  result.loss = fused.loss;
  result.batch = batch;
  result.skip_count = k.skip_count;
  result.l0_sum = sum(fused.l0).reshape({1});
  result.lskip_sum = sum(mul(fused.lskip, k.applies)).reshape({1});
  return result;
}

S2dmLoss s2dm_loss(const NoiseSchedule& schedule, const Tensor& out, const Tensor& eps1,
                   const Tensor& eps2, const std::vector<int64_t>& t,
                   const S2dmLossOptions& options) {
  check_batch(out);
  S2DM_CHECK(static_cast<int64_t>(t.size()) == out.size(0),
             "s2dm_loss: {} time steps for a batch of {}", t.size(), out.size(0));
  return s2dm_loss(out, eps1, eps2,
                   step_coefficients(schedule, t, options, out.dtype(), out.device()), options);
}

}  // namespace s2dm
