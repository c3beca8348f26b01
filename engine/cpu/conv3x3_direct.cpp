// Direct 3x3 convolution, stride 1, padding 1, float32.
//
// Each task takes one sample and a run of output-channel blocks. It copies the sample into a
// zero-bordered [C, H+2, W+2] scratch (so every tap is a plain shifted load, no bounds tests),
// then for each block of CB output channels and each output row keeps CB·NV vector accumulators
// (a row is NV vectors of L floats) in registers over all input channels and the nine taps:
// per input channel and tap, NV loads of the shifted input row feed CB·NV fused multiply-adds
// with broadcast weights. Weights are repacked once per call as [block][ci][tap][CB], so the
// inner loop reads CB consecutive floats; a last, partial block is padded with zero weights and
// only its real channels are stored. Vectors are GCC/Clang vector extensions of the target's
// register width, and CB·NV accumulators leave room for the input row and a weight: 16 of the
// 32 registers with AVX-512, 12 of the 16 with AVX2 (more spill to memory: 16 two-register
// accumulators made an AVX2 build 10x slower).
//
// Every output element is written by one task in a fixed order of additions (input channel,
// then tap), so results do not depend on the thread count.
#include "engine/cpu/conv3x3_direct.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace s2dm::cpu {

namespace {

// One register of floats, and how many accumulators fit beside the other operands. (A concrete
// typedef: a vector_size that depends on a template parameter is dropped by GCC in some contexts.)
#if defined(__AVX512F__)
constexpr int L = 16, kAccumulators = 16;
#else
constexpr int L = 8, kAccumulators = 12;
#endif
typedef float Vec __attribute__((vector_size(L * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

// Geometry of one call: `in` input channels, `out` output channels, H×W images.
struct Dims {
  int64_t n, in, out, h, w;
  int64_t padded_width() const { return w + 2; }
  int64_t padded_plane() const { return (h + 2) * (w + 2); }
};

// Copies sample x[in][h][w] into xp[in][h+2][w+2] with a zero border.
void pad_sample(const float* x, const Dims& d, float* xp) {
  const int64_t pw = d.padded_width();
  for (int64_t c = 0; c < d.in; ++c) {
    float* p = xp + c * d.padded_plane();
    std::fill(p, p + pw, 0.0f);
    for (int64_t r = 0; r < d.h; ++r) {
      float* row = p + (r + 1) * pw;
      row[0] = 0.0f;
      std::memcpy(row + 1, x + (c * d.h + r) * d.w, static_cast<size_t>(d.w) * sizeof(float));
      row[d.w + 1] = 0.0f;
    }
    std::fill(p + (d.h + 1) * pw, p + (d.h + 2) * pw, 0.0f);
  }
}

// Output rows of CB channels from block weights wb [in][9][CB]; y points at the block's first
// channel plane, `valid` of the CB channels are stored.
template <int NV, int CB>
void block(const float* xp, const float* wb, const float* bias, const Dims& d, int valid,
           float* y) {
  const int64_t pw = d.padded_width(), pp = d.padded_plane(), plane = d.h * d.w;
  for (int64_t oh = 0; oh < d.h; ++oh) {
    Vec acc[CB][NV];
#pragma GCC unroll 16
    for (int c = 0; c < CB; ++c) {
      const float b = bias != nullptr && c < valid ? bias[c] : 0.0f;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[c][v] = Vec{} + b;
    }
    for (int64_t i = 0; i < d.in; ++i) {
      const float* xr = xp + i * pp + oh * pw;
      const float* wi = wb + i * 9 * CB;
#pragma GCC unroll 9
      for (int t = 0; t < 9; ++t) {
        const float* src = xr + (t / 3) * pw + t % 3;
        Vec xv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) xv[v] = load(src + v * L);
#pragma GCC unroll 16
        for (int c = 0; c < CB; ++c) {
          const float wv = wi[t * CB + c];
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[c][v] += wv * xv[v];
        }
      }
    }
    for (int c = 0; c < valid; ++c)
      for (int v = 0; v < NV; ++v) store(y + c * plane + oh * d.w + v * L, acc[c][v]);
  }
}

// A per-thread scratch buffer of at least n floats: it only grows, so steady-state training
// allocates nothing here. `slot` separates the buffers one thread uses at once.
float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[slot];
  if (b.size() < static_cast<size_t>(n)) b.resize(static_cast<size_t>(n));
  return b.data();
}

// weight(o, i, tap) packed as [block][i][tap][CB], zero past the last output channel.
template <int CB, typename W>
const float* pack_weights(const Dims& d, W&& weight) {
  const int64_t size = (d.out + CB - 1) / CB * d.in * 9 * CB;
  float* wp = scratch(0, size);
  std::fill(wp, wp + size, 0.0f);
  for (int64_t o = 0; o < d.out; ++o)
    for (int64_t i = 0; i < d.in; ++i)
      for (int t = 0; t < 9; ++t)
        wp[(((o / CB) * d.in + i) * 9 + t) * CB + o % CB] = weight(o, i, t);
  return wp;
}

template <int NV, int CB, typename W>
void run(const float* x, W&& weight, const float* bias, const Dims& d, float* y) {
  const float* wp = pack_weights<CB>(d, weight);
  const int64_t blocks = (d.out + CB - 1) / CB, plane = d.h * d.w;
  // Whole samples per task when there are enough of them, else samples split by channel blocks.
  const int threads = omp_get_max_threads();
  const int64_t splits =
      std::min<int64_t>(blocks, std::max<int64_t>(1, (2 * threads + d.n - 1) / d.n));
  const int64_t per_task = (blocks + splits - 1) / splits, tasks = d.n * splits;
  const int64_t macs = d.n * d.out * d.in * 9 * plane;
#pragma omp parallel if (macs > (int64_t{1} << 18))
  {
    float* xp = scratch(1, d.in * d.padded_plane());
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t s = t / splits, b0 = (t % splits) * per_task;
      const int64_t b1 = std::min(blocks, b0 + per_task);
      if (b0 >= b1) continue;
      pad_sample(x + s * d.in * plane, d, xp);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t o0 = b * CB;
        const int valid = static_cast<int>(std::min<int64_t>(CB, d.out - o0));
        block<NV, CB>(xp, wp + b * d.in * 9 * CB, bias != nullptr ? bias + o0 : nullptr, d,
                      valid, y + (s * d.out + o0) * plane);
      }
    }
  }
}

template <typename W>
void dispatch(const float* x, W&& weight, const float* bias, const Dims& d, float* y) {
  // NV vectors per row, CB output channels per block.
  switch (d.w) {
    case 32: return run<32 / L, kAccumulators / (32 / L)>(x, weight, bias, d, y);
    case 16: return run<16 / L, kAccumulators / (16 / L)>(x, weight, bias, d, y);
    default: break;
  }
}

}  // namespace

bool conv3x3_direct_handles(int64_t width) { return width == 16 || width == 32; }

void conv3x3_direct_forward(const float* x, const float* w, const float* bias, int64_t n,
                            int64_t ci, int64_t co, int64_t h, int64_t width, float* y) {
  const Dims d{n, ci, co, h, width};
  dispatch(x, [&](int64_t o, int64_t i, int t) { return w[(o * ci + i) * 9 + t]; }, bias, d, y);
}

void conv3x3_direct_input_grad(const float* w, const float* dy, int64_t n, int64_t ci,
                               int64_t co, int64_t h, int64_t width, float* dx) {
  // Output channels are the forward's inputs; tap t of the flipped kernel is tap 8 − t.
  const Dims d{n, co, ci, h, width};
  dispatch(dy, [&](int64_t o, int64_t i, int t) { return w[(i * ci + o) * 9 + (8 - t)]; },
           nullptr, d, dx);
}

}  // namespace s2dm::cpu
