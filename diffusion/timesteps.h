// Which of the T training steps a sampler visits (docs/method.md §6). Lists are ascending, start
// at 0 and may hold duplicates (the quadratic list does for large S, as in the reference code);
// samplers walk them from the largest step down and finish with a step to t = −1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace s2dm {

enum class StepSpacing {
  Uniform,       // the reference code: range(0, T, T/S) with integer T/S; more than S steps when
                 // S does not divide T (T = 1000, S = 3 gives 0, 333, 666, 999)
  UniformCount,  // exactly S steps ⌊i·T/S⌋, i = 0..S−1 (the literal reading "0, T/S, 2T/S, …")
  Quadratic,     // int(linspace(0, √(0.8·T), S)²), duplicates kept (the DDIM paper's CIFAR10
                 // choice)
};

std::vector<int64_t> uniform_steps(int64_t num_steps, int64_t count);
std::vector<int64_t> uniform_count_steps(int64_t num_steps, int64_t count);
std::vector<int64_t> quadratic_steps(int64_t num_steps, int64_t count);
std::vector<int64_t> make_steps(StepSpacing spacing, int64_t num_steps, int64_t count);

// "uniform", "uniform_count", "quadratic" (also "quad") -> StepSpacing; throws on anything else.
StepSpacing parse_step_spacing(const std::string& name);

}  // namespace s2dm
