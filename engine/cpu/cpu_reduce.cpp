// CPU reductions: sum over a set of dims (keeping rank), sum of squares. Accumulates in double.
#include "engine/cpu/cpu_backend.h"
#include <algorithm>
#include <vector>

#include "engine/cpu/dispatch.h"

namespace s2dm {

// View x as [outer, r, inner]-style nests: for each output element, sum the input elements that map
// to it. Output strides are 0 along the reduced dims, so one strided pass in input order does it;
// parallelism is over output elements when there are enough of them.
void CpuBackend::sum_to(const Tensor& x, Tensor& out) {
  const Shape& xs = x.shape();
  const size_t nd = xs.size();
  S2DM_CHECK(out.dim() == x.dim(), "sum_to: rank mismatch {} vs {}", x.str(), out.str());
  // Reorder into kept dims (outer loop) and reduced dims (inner loop).
  Shape kept_shape, red_shape;
  Strides kept_xstr, red_xstr, kept_ostr;
  const Strides xst = contiguous_strides(xs), ost = contiguous_strides(out.shape());
  for (size_t d = 0; d < nd; ++d) {
    if (out.shape()[d] == xs[d]) {
      kept_shape.push_back(xs[d]);
      kept_xstr.push_back(xst[d]);
      kept_ostr.push_back(ost[d]);
    } else {
      S2DM_CHECK(out.shape()[d] == 1, "sum_to: cannot reduce {} to {}", x.str(), out.str());
      red_shape.push_back(xs[d]);
      red_xstr.push_back(xst[d]);
    }
  }
  const int64_t n_out = shape_numel(kept_shape), n_red = shape_numel(red_shape);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for if (n_out * n_red > 32768)
    for (int64_t o = 0; o < n_out; ++o) {
      int64_t xoff = 0, ooff = 0, rem = o;
      for (size_t d = kept_shape.size(); d-- > 0;) {
        const int64_t i = rem % kept_shape[d];
        rem /= kept_shape[d];
        xoff += i * kept_xstr[d];
        ooff += i * kept_ostr[d];
      }
      double acc = 0;
      if (red_shape.size() == 1 && red_xstr[0] == 1) {
        for (int64_t r = 0; r < n_red; ++r) acc += static_cast<double>(px[xoff + r]);
      } else {
        for (int64_t r = 0; r < n_red; ++r) {
          int64_t roff = 0, rr = r;
          for (size_t d = red_shape.size(); d-- > 0;) {
            roff += (rr % red_shape[d]) * red_xstr[d];
            rr /= red_shape[d];
          }
          acc += static_cast<double>(px[xoff + roff]);
        }
      }
      po[ooff] = static_cast<T>(acc);
    }
  });
}

// Fixed-size chunks summed in chunk order: the result does not depend on thread timing (an OpenMP
// reduction may combine partial sums in any order), which bit-exact resume relies on.
double CpuBackend::sum_squares(const Tensor& x) {
  const int64_t n = x.numel();
  constexpr int64_t kChunk = 16384;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(nchunks), 0.0);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* p = x.data<T>();
#pragma omp parallel for schedule(static) if (nchunks > 1)
    for (int64_t c = 0; c < nchunks; ++c) {
      double acc = 0;
      for (int64_t i = c * kChunk, e = std::min(n, i + kChunk); i < e; ++i)
        acc += static_cast<double>(p[i]) * static_cast<double>(p[i]);
      partial[static_cast<size_t>(c)] = acc;
    }
  });
  double total = 0;
  for (double v : partial) total += v;
  return total;
}

}  // namespace s2dm
