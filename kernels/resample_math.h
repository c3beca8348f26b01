// Bilinear resizing's source taps, shared by the CPU backend and kernels/resample.cu so both read
// the same two input positions with the same weights. align_corners=False, as ATen computes them
// (area_pixel_compute_source_index, guard_index_and_lambda) in T: for output position d of
// out_size, src = scale·(d + 0.5) − 0.5 with scale = in_size / out_size, clamped at 0;
// i0 = min(floor(src), in_size − 1), i1 = i0 + 1 (i0 at the last row or column), l1 = src − i0,
// l0 = 1 − l1. Equal sizes copy (one tap of weight 1), as ATen does.
#pragma once
#include <cstdint>

#include "kernels/host_device.h"

namespace s2dm::resample {

template <typename T>
struct LinearTap {
  int64_t i0, i1;
  T l0, l1;
};

template <typename T>
S2DM_HD T linear_scale(int64_t in_size, int64_t out_size) {
  return static_cast<T>(in_size) / static_cast<T>(out_size);
}

template <typename T>
S2DM_HD LinearTap<T> linear_tap(int64_t d, T scale, int64_t in_size, int64_t out_size) {
  LinearTap<T> t;
  if (in_size == out_size) {
    t.i0 = t.i1 = d;
    t.l0 = T(1);
    t.l1 = T(0);
    return t;
  }
  T src = scale * (static_cast<T>(d) + T(0.5)) - T(0.5);
  if (src < T(0)) src = T(0);
  t.i0 = static_cast<int64_t>(src);  // floor: src >= 0
  if (t.i0 > in_size - 1) t.i0 = in_size - 1;
  T l1 = src - static_cast<T>(t.i0);
  l1 = l1 < T(0) ? T(0) : (l1 > T(1) ? T(1) : l1);
  t.i1 = t.i0 < in_size - 1 ? t.i0 + 1 : t.i0;
  t.l1 = l1;
  t.l0 = T(1) - l1;
  return t;
}

// y at (ty, tx) from one plane: ATen's order, l0y·(l0x·a + l1x·b) + l1y·(l0x·c + l1x·d).
template <typename T>
S2DM_HD T bilinear_at(const T* plane, int64_t w, const LinearTap<T>& ty, const LinearTap<T>& tx) {
  const T* r0 = plane + ty.i0 * w;
  const T* r1 = plane + ty.i1 * w;
  return ty.l0 * (tx.l0 * r0[tx.i0] + tx.l1 * r0[tx.i1]) +
         ty.l1 * (tx.l0 * r1[tx.i0] + tx.l1 * r1[tx.i1]);
}

// The first output position d in [0, out_size) whose tap i0 is at least i, out_size when none
// (i0 does not decrease with d). The outputs reading input position i are those with
// i − 1 <= i0 <= i: [first_tap_at_least(i − 1), first_tap_at_least(i + 1)).
template <typename T>
S2DM_HD int64_t first_tap_at_least(int64_t i, T scale, int64_t in_size, int64_t out_size) {
  int64_t lo = 0, hi = out_size;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (linear_tap<T>(mid, scale, in_size, out_size).i0 >= i) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

// Position i's weight in tap t (both weights when the two taps coincide at the last position).
template <typename T>
S2DM_HD T tap_weight(const LinearTap<T>& t, int64_t i) {
  return (t.i0 == i ? t.l0 : T(0)) + (t.i1 == i ? t.l1 : T(0));
}

}  // namespace s2dm::resample
