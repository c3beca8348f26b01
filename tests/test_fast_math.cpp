// The vectorisable exp used by the CPU backend's sigmoid/SiLU: accuracy against libm.
#include <catch2/catch.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

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

TEST_CASE("clamp_f32 is std::min(std::max(x, lo), hi) bit for bit", "[cpu][fast_math]") {
  // Every 997th bit pattern (both signs, zeros, subnormals, infinities), plus the bounds'
  // neighbours; NaNs stay NaN, through exp and sigmoid too, so a bad value is never hidden.
  const auto same = [](float x) {
    const float want = std::min(std::max(x, -87.0f), 88.0f);
    return std::bit_cast<uint32_t>(s2dm::cpu::clamp_f32(x, -87.0f, 88.0f)) ==
           std::bit_cast<uint32_t>(want);
  };
  int64_t wrong = 0, tried = 0;
  for (uint64_t u = 0; u <= 0xFFFFFFFFu; u += 997) {
    const float x = std::bit_cast<float>(static_cast<uint32_t>(u));
    if (std::isnan(x)) {
      wrong += std::isnan(s2dm::cpu::clamp_f32(x, -87.0f, 88.0f)) ? 0 : 1;
      continue;
    }
    ++tried;
    wrong += same(x) ? 0 : 1;
  }
  for (float x : {-87.0f, 88.0f, std::nextafter(-87.0f, 0.0f), std::nextafter(-87.0f, -100.0f),
                  std::nextafter(88.0f, 0.0f), std::nextafter(88.0f, 100.0f), 0.0f, -0.0f,
                  INFINITY, -INFINITY, 1e-45f, -1e-45f})
    wrong += same(x) ? 0 : 1;
  CHECK(tried > 4000000);
  CHECK(wrong == 0);
  CHECK(std::isnan(s2dm::cpu::exp_f32(NAN)));
  CHECK(std::isnan(s2dm::cpu::sigmoid_fast(-NAN)));
}
