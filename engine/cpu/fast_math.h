// Vectorisable elementary functions for the CPU loops. libm's expf is a call the compiler cannot
// vectorise, and it dominated SiLU/sigmoid inside group norm; this one is a few multiply-adds.
//
// exp_f32: x = n·ln2 + r, |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its degree-6 Taylor
// polynomial, 2^n built in the exponent bits. Relative error below 3e-7 (about 2 ulp) for
// x in [−87, 88]; inputs are clamped there, so results saturate instead of becoming 0 or inf —
// harmless for the sigmoid it serves. Doubles keep std::exp (gradient checks run in float64).
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace s2dm::cpu {

// Float order as int32 order: the bit pattern, with the magnitude bits flipped for negatives (its
// own inverse).
inline int32_t order_key(int32_t bits) { return bits ^ ((bits >> 31) & 0x7FFFFFFF); }

// std::min(std::max(x, lo), hi) in integer operations, NaN passed through as the float form
// does. The float form lets GCC fold exp_f32 to a constant on the clamped side and branch around
// the rest; without AVX-512 masks that branch cannot be if-converted (the float-to-int
// conversion may trap), so every loop calling exp_f32 stayed scalar on AVX2 and SSE builds
// (group norm + SiLU ran 4x slower).
inline float clamp_f32(float x, float lo, float hi) {
  const int32_t bits = std::bit_cast<int32_t>(x);
  const int32_t lo_k = order_key(std::bit_cast<int32_t>(lo));
  const int32_t hi_k = order_key(std::bit_cast<int32_t>(hi));
  const int32_t clamped = order_key(std::min(std::max(order_key(bits), lo_k), hi_k));
  const bool nan = (bits & 0x7FFFFFFF) > 0x7F800000;
  return std::bit_cast<float>(nan ? bits : clamped);
}

inline float exp_f32(float x) {
  x = clamp_f32(x, -87.0f, 88.0f);
  // n = round(x / ln2) by the 1.5·2^23 trick: adding it leaves the rounded integer in the low
  // mantissa bits. std::floor would do as well but keeps GCC from vectorising the loops that call
  // this (it is not allowed to raise no exception), which made SiLU inside group norm scalar.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(bits);
}

template <typename T>
T exp_fast(T x) {
  if constexpr (std::is_same_v<T, float>) return exp_f32(x);
  else return std::exp(x);
}

template <typename T>
T sigmoid_fast(T z) {
  return T(1) / (T(1) + exp_fast(-z));
}

}  // namespace s2dm::cpu
