// Parallel iteration over every element of a shape for K operands with arbitrary strides
// (stride 0 = broadcast).
//
// strided_rows first merges dimensions that are contiguous for every operand and drops size-1
// dimensions, then calls f(offsets, len, inner) once per row of the innermost remaining
// dimension: the row's first element offset per operand, its length, and each operand's stride
// along it. Callers specialise the common inner strides (all 1, or 0 for a broadcast operand) so
// the row loop vectorises. Rows are split across threads when the total is large.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <omp.h>

#include "engine/tensor.h"

namespace s2dm::cpu {

// Below this many elements a loop is not worth waking the OpenMP team.
constexpr int64_t kParallelGrain = 32768;

template <size_t K, typename F>
void strided_rows(const Shape& shape_in, const std::array<Strides, K>& strides_in, F&& f) {
  if (shape_numel(shape_in) == 0) return;
  // Coalesce: keep non-trivial dims, merge d into its inner neighbour when every operand allows.
  Shape shape;
  std::array<Strides, K> st;
  for (size_t d = 0; d < shape_in.size(); ++d) {
    if (shape_in[d] == 1) continue;
    bool merge = !shape.empty();
    for (size_t k = 0; k < K && merge; ++k) merge = st[k].back() == strides_in[k][d] * shape_in[d];
    if (merge) {
      shape.back() *= shape_in[d];
      for (size_t k = 0; k < K; ++k) st[k].back() = strides_in[k][d];
    } else {
      shape.push_back(shape_in[d]);
      for (size_t k = 0; k < K; ++k) st[k].push_back(strides_in[k][d]);
    }
  }
  if (shape.empty()) {  // a single element
    shape.push_back(1);
    for (size_t k = 0; k < K; ++k) st[k].push_back(0);
  }
  const int nd = static_cast<int>(shape.size());
  const int64_t len = shape.back();
  std::array<int64_t, K> inner;
  for (size_t k = 0; k < K; ++k) inner[k] = st[k].back();
  const int64_t rows = shape_numel(shape) / len;
  // Long rows are cut into segments so a single contiguous run still spreads over the threads.
  constexpr int64_t kSegment = 16384;
  const int64_t segs = (len + kSegment - 1) / kSegment;
#pragma omp parallel for schedule(static) if (rows * len > kParallelGrain && rows * segs > 1)
  for (int64_t task = 0; task < rows * segs; ++task) {
    const int64_t r = task / segs, begin = (task % segs) * kSegment;
    std::array<int64_t, K> off{};
    int64_t rem = r;
    for (int d = nd - 2; d >= 0; --d) {
      const int64_t i = rem % shape[static_cast<size_t>(d)];
      rem /= shape[static_cast<size_t>(d)];
      for (size_t k = 0; k < K; ++k) off[k] += i * st[k][static_cast<size_t>(d)];
    }
    for (size_t k = 0; k < K; ++k) off[k] += begin * inner[k];
    f(off, std::min(kSegment, len - begin), inner);
  }
}

// Per-element form: f(offsets) for every element.
template <size_t K, typename F>
void strided_for(const Shape& shape, const std::array<Strides, K>& strides, F&& f) {
  strided_rows<K>(shape, strides, [&](std::array<int64_t, K> off, int64_t len,
                                      const std::array<int64_t, K>& inner) {
    for (int64_t j = 0; j < len; ++j) {
      f(off);
      for (size_t k = 0; k < K; ++k) off[k] += inner[k];
    }
  });
}

}  // namespace s2dm::cpu
