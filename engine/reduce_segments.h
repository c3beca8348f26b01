// The layout of a sum_to reduction, shared by the backends: x's dims (x and out contiguous)
// split into runs of kept and reduced dims. Neighbouring dims of the same kind merge into one
// segment and size-1 dims drop out, so most reductions become one or two segments.
#pragma once
#include <vector>

#include "engine/error.h"
#include "engine/tensor.h"

namespace s2dm {

struct ReduceSegment {
  int64_t size;
  bool reduced;
};

// Throws naming both shapes unless out has x's rank with each dim equal to x's or 1.
inline std::vector<ReduceSegment> reduce_segments(const Tensor& x, const Tensor& out) {
  const Shape& xs = x.shape();
  S2DM_CHECK(out.dim() == x.dim(), "sum_to: rank mismatch {} vs {}", x.str(), out.str());
  std::vector<ReduceSegment> seg;
  for (size_t d = 0; d < xs.size(); ++d) {
    S2DM_CHECK(out.shape()[d] == xs[d] || out.shape()[d] == 1, "sum_to: cannot reduce {} to {}",
               x.str(), out.str());
    if (xs[d] == 1) continue;
    const bool reduced = out.shape()[d] != xs[d];
    if (!seg.empty() && seg.back().reduced == reduced) seg.back().size *= xs[d];
    else seg.push_back({xs[d], reduced});
  }
  return seg;
}

}  // namespace s2dm
