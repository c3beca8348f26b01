// The vectorisable exp used by the CPU backend's sigmoid/SiLU: accuracy against libm.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/cpu/fast_math.h"

TEST_CASE("exp_f32 is within 3e-7 relative error of std::exp on [-87, 88]", "[cpu][fast_math]") {
  double worst = 0;
  for (int i = 0; i <= 1750000; ++i) {
    const float x = -87.0f + 1e-4f * static_cast<float>(i);
    const double want = std::exp(static_cast<double>(x));
    const double rel = std::abs(static_cast<double>(s2dm::cpu::exp_f32(x)) - want) / want;
    worst = std::max(worst, rel);
  }
  CHECK(worst < 3e-7);
  CHECK(s2dm::cpu::exp_f32(0.0f) == 1.0f);
  // Saturation instead of inf/0, and sigmoid stays exact at the ends.
  CHECK(std::isfinite(s2dm::cpu::exp_f32(1000.0f)));
  CHECK(s2dm::cpu::sigmoid_fast(-1000.0f) < 1e-37f);
  CHECK(s2dm::cpu::sigmoid_fast(1000.0f) == 1.0f);
  CHECK(s2dm::cpu::sigmoid_fast(0.0f) == 0.5f);
}
