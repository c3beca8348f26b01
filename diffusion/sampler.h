// What every sampler shares: the ε-model callable, the result type and the walk over a step list.
//
// Invariants: samplers run without recording autograd, take all randomness from the Generator they
// are given, never modify x_T, and count every model call in `nfe`. Step lists are ascending
// values in [0, T−1] (timesteps.h); the walk goes from the last entry down to t = −1.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "diffusion/schedule.h"
#include "engine/tensor.h"

namespace s2dm {

// ε̂ = model(x, t): x a batch [N, ...], t a float tensor [N] (x's dtype and device) that may hold
// fractional steps (F-PNDM's midpoints). Must return a tensor of x's shape, dtype and device.
using EpsModel = std::function<Tensor(const Tensor& x, const Tensor& t)>;

struct SampleResult {
  Tensor x0;        // the final sample, at t = −1
  int64_t nfe = 0;  // model evaluations used
};

namespace detail {

// Validates a step list against the schedule: non-empty, ascending (ties allowed), in [0, T−1].
void check_steps(const char* sampler, const NoiseSchedule& schedule,
                 const std::vector<int64_t>& seq);
// Validates x_T (a batch with at least one sample, F32 or F64).
void check_start(const char* sampler, const Tensor& x);
// The (t, s) pairs in walking order: (seq[n−1], seq[n−2]), …, (seq[0], −1).
std::vector<std::pair<int64_t, int64_t>> step_pairs(const std::vector<int64_t>& seq);
// Calls the model at time t for the whole batch, checks the output and counts the evaluation.
Tensor call_model(const char* sampler, const EpsModel& model, const Tensor& x, double t,
                  int64_t& nfe);

}  // namespace detail

}  // namespace s2dm
