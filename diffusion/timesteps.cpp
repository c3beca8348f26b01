// Step lists, reproducing the reference code's integer arithmetic exactly.
#include "diffusion/timesteps.h"

#include <cmath>

#include "engine/error.h"

namespace s2dm {

namespace {

void check_counts(const char* what, int64_t num_steps, int64_t count) {
  S2DM_CHECK(num_steps >= 1, "{}: the number of training steps must be at least 1, got {}", what,
             num_steps);
  S2DM_CHECK(count >= 1 && count <= num_steps,
             "{}: the number of sampling steps must be in [1, {}], got {}", what, num_steps, count);
}

}  // namespace

std::vector<int64_t> uniform_steps(int64_t num_steps, int64_t count) {
  check_counts("uniform_steps", num_steps, count);
  const int64_t stride = num_steps / count;
  std::vector<int64_t> seq;
  for (int64_t t = 0; t < num_steps; t += stride) seq.push_back(t);
  return seq;
}

std::vector<int64_t> uniform_count_steps(int64_t num_steps, int64_t count) {
  check_counts("uniform_count_steps", num_steps, count);
  std::vector<int64_t> seq;
  for (int64_t i = 0; i < count; ++i) seq.push_back(i * num_steps / count);
  return seq;
}

std::vector<int64_t> quadratic_steps(int64_t num_steps, int64_t count) {
  check_counts("quadratic_steps", num_steps, count);
  // numpy's linspace: i·step with the last point set to the end exactly, then squared, truncated.
  const double end = std::sqrt(static_cast<double>(num_steps) * 0.8);
  const double step = count > 1 ? end / static_cast<double>(count - 1) : 0.0;
  std::vector<int64_t> seq;
  for (int64_t i = 0; i < count; ++i) {
    const double v = i + 1 == count && count > 1 ? end : static_cast<double>(i) * step;
    seq.push_back(static_cast<int64_t>(v * v));
  }
  return seq;
}

std::vector<int64_t> make_steps(StepSpacing spacing, int64_t num_steps, int64_t count) {
  switch (spacing) {
    case StepSpacing::Uniform: return uniform_steps(num_steps, count);
    case StepSpacing::UniformCount: return uniform_count_steps(num_steps, count);
    case StepSpacing::Quadratic: return quadratic_steps(num_steps, count);
  }
  fail("make_steps: unknown step spacing {}", static_cast<int>(spacing));
}

StepSpacing parse_step_spacing(const std::string& name) {
  if (name == "uniform") return StepSpacing::Uniform;
  if (name == "uniform_count") return StepSpacing::UniformCount;
  if (name == "quadratic" || name == "quad") return StepSpacing::Quadratic;
  fail("unknown step spacing '{}': expected uniform, uniform_count or quadratic", name);
}

}  // namespace s2dm
