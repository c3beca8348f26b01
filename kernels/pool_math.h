// Pooling windows and the per-window rules of max_pool2d and avg_pool2d, shared by the CPU
// backend and kernels/pool.cu so both pick the same maximum and divide by the same count.
// The rules are PyTorch's (ATen's CPU and CUDA pooling kernels, ceil_mode false).
#pragma once
#include <cstdint>

#include "kernels/host_device.h"

namespace s2dm::pool {

// One [H, W] plane pooled to [Ho, Wo] by a kh x kw window moved by (sh, sw) over the plane
// padded by (ph, pw) on each side.
struct Geometry {
  int64_t h = 0, w = 0, ho = 0, wo = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  bool count_include_pad = true;
};

// Output extent along one dim (floor mode): (in + 2·pad − k) / stride + 1.
S2DM_HD int64_t pooled_size(int64_t in, int k, int stride, int pad) {
  return (in + 2 * pad - k) / stride + 1;
}

// The window of output (oy, ox) clipped to the plane: rows [y0, y1), columns [x0, x1).
// padded_count is the window's size counting padding (but not beyond it), which is what
// count_include_pad divides by.
struct Window {
  int64_t y0, y1, x0, x1, padded_count;
};

S2DM_HD Window window_of(const Geometry& g, int64_t oy, int64_t ox) {
  Window win;
  win.y0 = oy * g.sh - g.ph;
  win.x0 = ox * g.sw - g.pw;
  win.y1 = win.y0 + g.kh < g.h + g.ph ? win.y0 + g.kh : g.h + g.ph;
  win.x1 = win.x0 + g.kw < g.w + g.pw ? win.x0 + g.kw : g.w + g.pw;
  win.padded_count = (win.y1 - win.y0) * (win.x1 - win.x0);
  win.y0 = win.y0 > 0 ? win.y0 : 0;
  win.x0 = win.x0 > 0 ? win.x0 : 0;
  win.y1 = win.y1 < g.h ? win.y1 : g.h;
  win.x1 = win.x1 < g.w ? win.x1 : g.w;
  return win;
}

// avg_pool2d's divisor for a window.
S2DM_HD int64_t avg_divisor(const Geometry& g, const Window& win) {
  return g.count_include_pad ? win.padded_count : (win.y1 - win.y0) * (win.x1 - win.x0);
}

// max_pool2d's running maximum: v replaces best when larger or NaN. Scanning rows then columns
// from best = −inf and index = the window's first element, the first maximum wins, a window of
// −inf picks its first element, and NaN propagates (the last NaN holds the index). Padding is
// never scanned, so it never wins.
template <typename T>
S2DM_HD bool replaces_max(T v, T best) {
  return v > best || v != v;
}

// The index (in the plane) of the maximum of window `win`; its value in *value.
template <typename T>
S2DM_HD int64_t window_argmax(const T* plane, const Geometry& g, const Window& win, T neg_inf,
                              T* value) {
  int64_t arg = win.y0 * g.w + win.x0;
  T best = neg_inf;
  for (int64_t y = win.y0; y < win.y1; ++y) {
    for (int64_t x = win.x0; x < win.x1; ++x) {
      const T v = plane[y * g.w + x];
      if (replaces_max(v, best)) {
        best = v;
        arg = y * g.w + x;
      }
    }
  }
  *value = best;
  return arg;
}

// The outputs along one dim whose windows cover input position i: [lo, hi) (empty when lo >= hi).
struct Span {
  int64_t lo, hi;
};

S2DM_HD Span outputs_covering(int64_t i, int k, int stride, int pad, int64_t out_size) {
  // o·stride − pad ≤ i < o·stride − pad + k.
  const int64_t first = i + pad - k + 1;
  Span s;
  s.lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  s.hi = (i + pad) / stride + 1;
  if (s.hi > out_size) s.hi = out_size;
  return s;
}

}  // namespace s2dm::pool
