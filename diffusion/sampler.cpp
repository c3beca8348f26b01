// Shared validation and model calls for the samplers.
#include "diffusion/sampler.h"

#include "engine/error.h"

namespace s2dm::detail {

void check_steps(const char* sampler, const NoiseSchedule& schedule,
                 const std::vector<int64_t>& seq) {
  S2DM_CHECK(!seq.empty(), "{}: the step list is empty", sampler);
  for (size_t i = 0; i < seq.size(); ++i) {
    S2DM_CHECK(seq[i] >= 0 && seq[i] < schedule.num_steps(),
               "{}: step {} (entry {}) is outside [0, {}]", sampler, seq[i], i,
               schedule.num_steps() - 1);
    S2DM_CHECK(i == 0 || seq[i - 1] <= seq[i],
               "{}: the step list must be ascending, but entry {} ({}) follows {}", sampler, i,
               seq[i], seq[i - 1]);
  }
}

void check_start(const char* sampler, const Tensor& x) {
  S2DM_CHECK(x.defined() && x.dim() >= 1 && x.size(0) >= 1,
             "{}: x_T must be a batch [N, ...] with N >= 1", sampler);
  S2DM_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F64,
             "{}: x_T must be float32 or float64, got {}", sampler, x.str());
}

std::vector<std::pair<int64_t, int64_t>> step_pairs(const std::vector<int64_t>& seq) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (size_t i = seq.size(); i-- > 0;) pairs.emplace_back(seq[i], i == 0 ? -1 : seq[i - 1]);
  return pairs;
}

Tensor call_model(const char* sampler, const EpsModel& model, const Tensor& x, double t,
                  int64_t& nfe) {
  const Tensor tt = Tensor::full({x.size(0)}, t, x.dtype(), x.device());
  Tensor eps = model(x, tt);
  ++nfe;
  S2DM_CHECK(eps.defined() && eps.shape() == x.shape() && eps.dtype() == x.dtype() &&
                 eps.device() == x.device(),
             "{}: the model returned {} for an input {}; it must match the input's shape, dtype "
             "and device",
             sampler, eps.defined() ? eps.str() : std::string("an undefined tensor"), x.str());
  return eps;
}

}  // namespace s2dm::detail
