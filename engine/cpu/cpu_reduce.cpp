// CPU reductions: sum over a set of dims (keeping rank), sum of squares. Accumulates in double.
#include "engine/cpu/cpu_backend.h"
#include "engine/reduce_segments.h"
#include <algorithm>
#include <vector>

#include "engine/cpu/dispatch.h"
#include "engine/error.h"

namespace s2dm {

// x and out are contiguous, so neighbouring dims that are both kept (or both reduced) merge into
// one. Two layouts cover nearly every call and get dedicated loops: the reduced dims innermost
// (per-channel sums of an activation: a contiguous run per output element) and a single reduced
// dim outermost (bias gradients: column sums, vectorised over the kept dim). Sums are in double.
void CpuBackend::sum_to(const Tensor& x, Tensor& out) {
  const std::vector<ReduceSegment> seg = reduce_segments(x, out);
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    if (n == 0) {
      for (int64_t i = 0; i < out.numel(); ++i) po[i] = T(0);
      return;
    }
    if (seg.size() == 2 && seg[0].reduced && !seg[1].reduced) {  // column sums
      const int64_t rows = seg[0].size, cols = seg[1].size;
      constexpr int64_t kBlock = 256;
#pragma omp parallel for if (n > 32768)
      for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
        const int64_t c1 = std::min(cols, c0 + kBlock);
        double acc[kBlock] = {};
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = c0; c < c1; ++c) acc[c - c0] += static_cast<double>(px[r * cols + c]);
        for (int64_t c = c0; c < c1; ++c) po[c] = static_cast<T>(acc[c - c0]);
      }
      return;
    }
    // General nest: kept segments index the output; reduced segments are summed, the innermost
    // segment's elements being contiguous in x.
    Shape kept, red;
    Strides kept_x, red_x;
    int64_t stride = 1;
    for (size_t i = seg.size(); i-- > 0;) {
      (seg[i].reduced ? red : kept).insert((seg[i].reduced ? red : kept).begin(), seg[i].size);
      (seg[i].reduced ? red_x : kept_x).insert((seg[i].reduced ? red_x : kept_x).begin(), stride);
      stride *= seg[i].size;
    }
    const int64_t n_out = shape_numel(kept), n_red = shape_numel(red);
    const bool inner_run = !red.empty() && red_x.back() == 1;
    const int64_t run = inner_run ? red.back() : 1;
#pragma omp parallel for if (n > 32768 && n_out > 1)
    for (int64_t o = 0; o < n_out; ++o) {
      int64_t xoff = 0, rem = o;
      for (size_t d = kept.size(); d-- > 0;) {
        xoff += (rem % kept[d]) * kept_x[d];
        rem /= kept[d];
      }
      double acc = 0;
      for (int64_t r = 0; r < n_red; r += run) {
        int64_t roff = 0, rr = r;
        for (size_t d = red.size(); d-- > 0;) {
          roff += (rr % red[d]) * red_x[d];
          rr /= red[d];
        }
        const T* p = px + xoff + roff;
        for (int64_t j = 0; j < run; ++j) acc += static_cast<double>(p[j]);
      }
      po[o] = static_cast<T>(acc);
    }
  });
}

// Fixed-size chunks summed in chunk order: the result does not depend on thread timing (an OpenMP
// reduction may combine partial sums in any order), which bit-exact resume relies on.
void CpuBackend::sum_squares(const Tensor& x, Tensor& out) {
  S2DM_CHECK(out.numel() == 1 && out.dtype() == DType::F64,
             "sum_squares: out must be one float64 element, got {}", out.str());
  const int64_t n = x.numel();
  constexpr int64_t kChunk = 16384;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(nchunks), 0.0);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* p = x.data<T>();
    // Eight running sums per chunk, element i in sum i % 8: independent chains the compiler
    // keeps in vector lanes (one chain waits on each addition's latency), in a fixed order, so
    // the result does not depend on the thread count.
    constexpr int kLanes = 8;
#pragma omp parallel for schedule(static) if (nchunks > 1)
    for (int64_t c = 0; c < nchunks; ++c) {
      double acc[kLanes] = {};
      const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
      int64_t i = begin;
      for (; i + kLanes <= end; i += kLanes)
        for (int l = 0; l < kLanes; ++l)
          acc[l] += static_cast<double>(p[i + l]) * static_cast<double>(p[i + l]);
      for (; i < end; ++i) acc[0] += static_cast<double>(p[i]) * static_cast<double>(p[i]);
      double total = 0;
      for (double a : acc) total += a;
      partial[static_cast<size_t>(c)] = total;
    }
  });
  double total = 0;
  for (double v : partial) total += v;
  *out.data<double>() = total;
}

}  // namespace s2dm
