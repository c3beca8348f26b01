// Philox4x32-10 counter-based random numbers, shared by the CPU backend and the CUDA kernels.
//
// The stream is fully specified so every backend draws the same values for the same (seed, offset):
//   key     = (lo32(seed), hi32(seed))
//   counter = (lo32(c), hi32(c), 0, 0) with c = offset + i / 4, i the element index
//   element i takes word i % 4 of philox(counter, key).
// uniform(i) = (word >> 8 + 0.5) * 2^-24, in (0, 1), exactly representable in float.
// normal(i): Box-Muller on the word pairs (w0, w1) and (w2, w3) of the same counter, evaluated in
// double and rounded to float: element 4k+0 = r0*cos(2πu1), 4k+1 = r0*sin(2πu1),
// 4k+2 = r2*cos(2πu3), 4k+3 = r2*sin(2πu3), r = sqrt(-2 ln u_even).
// A draw of n values consumes ceil(n / 4) counters; generators advance their offset by that much.
#pragma once
#include <cstdint>
#include <cmath>

#include "kernels/host_device.h"

namespace s2dm::philox {

struct Words { uint32_t w[4]; };

S2DM_HD void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Philox4x32 with 10 rounds (Salmon et al., SC'11), the same constants as cuRAND and PyTorch.
S2DM_HD Words philox4x32_10_full(Words c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c.w[0], hi0, lo0);
    mulhilo(0xCD9E8D57u, c.w[2], hi1, lo1);
    c = Words{{hi1 ^ c.w[1] ^ k0, lo1, hi0 ^ c.w[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

S2DM_HD Words philox4x32_10(uint64_t counter, uint64_t seed) {
  const Words c{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}};
  return philox4x32_10_full(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

S2DM_HD float to_uniform(uint32_t w) {
  return (static_cast<float>(w >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

S2DM_HD float uniform_at(uint64_t seed, uint64_t offset, uint64_t i) {
  const Words r = philox4x32_10(offset + i / 4, seed);
  return to_uniform(r.w[i % 4]);
}

S2DM_HD float normal_at(uint64_t seed, uint64_t offset, uint64_t i) {
  const Words r = philox4x32_10(offset + i / 4, seed);
  const unsigned pair = static_cast<unsigned>(i % 4) / 2;
  const double u_r = static_cast<double>(to_uniform(r.w[2 * pair]));
  const double u_a = static_cast<double>(to_uniform(r.w[2 * pair + 1]));
  const double radius = ::sqrt(-2.0 * ::log(u_r));
  const double angle = 6.283185307179586 * u_a;
  return static_cast<float>((i % 2 == 0) ? radius * ::cos(angle) : radius * ::sin(angle));
}

// The four normals of one counter's words, exactly as normal_at computes each of them: element
// 4k + j of a draw is normals(philox4x32_10(offset + k, seed)).v[j].
struct Normals { float v[4]; };
S2DM_HD Normals normals(const Words& r) {
  Normals out;
  for (unsigned pair = 0; pair < 2; ++pair) {
    const double u_r = static_cast<double>(to_uniform(r.w[2 * pair]));
    const double u_a = static_cast<double>(to_uniform(r.w[2 * pair + 1]));
    const double radius = ::sqrt(-2.0 * ::log(u_r));
    const double angle = 6.283185307179586 * u_a;
    out.v[2 * pair] = static_cast<float>(radius * ::cos(angle));
    out.v[2 * pair + 1] = static_cast<float>(radius * ::sin(angle));
  }
  return out;
}

// Counters consumed by a draw of n values.
S2DM_HD uint64_t counters_for(uint64_t n) { return (n + 3) / 4; }

}  // namespace s2dm::philox
