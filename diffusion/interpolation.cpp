// slerp and its weights.
#include "diffusion/interpolation.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"

namespace s2dm {

Tensor slerp(const Tensor& z1, const Tensor& z2, double a) {
  S2DM_CHECK(z1.defined() && z2.defined() && z1.shape() == z2.shape(),
             "slerp: z1 and z2 must have the same shape, got {} and {}",
             z1.defined() ? z1.str() : std::string("undefined"),
             z2.defined() ? z2.str() : std::string("undefined"));
  S2DM_CHECK(std::isfinite(a), "slerp: the weight must be finite, got {}", a);
  NoGradGuard no_grad;
  const double dot = sum(mul(z1, z2)).item();
  const double n1 = std::sqrt(sum(square(z1)).item()), n2 = std::sqrt(sum(square(z2)).item());
  S2DM_CHECK(n1 > 0.0 && n2 > 0.0, "slerp: z1 and z2 must be non-zero (norms {} and {})", n1, n2);
  const double cos_theta = std::clamp(dot / (n1 * n2), -1.0, 1.0);
  S2DM_CHECK(cos_theta > -1.0 + 1e-12,
             "slerp: z1 and z2 point in opposite directions, so the arc between them is undefined");
  const double theta = std::acos(cos_theta);
  const double sin_theta = std::sin(theta);
  if (sin_theta < 1e-12) return add(mul_scalar(z1, 1.0 - a), mul_scalar(z2, a));
  return add(mul_scalar(z1, std::sin((1.0 - a) * theta) / sin_theta),
             mul_scalar(z2, std::sin(a * theta) / sin_theta));
}

std::vector<double> interpolation_weights(int64_t count) {
  S2DM_CHECK(count >= 2, "interpolation_weights: need at least 2 weights, got {}", count);
  std::vector<double> w;
  for (int64_t i = 0; i < count; ++i) {
    w.push_back(static_cast<double>(i) / static_cast<double>(count - 1));
  }
  return w;
}

}  // namespace s2dm
