// The iteration space of a strided elementwise kernel: one shape and the strides of K operands
// (in elements; 0 broadcasts), passed to the kernel by value. The host coalesces it first (size-1
// dims dropped, a dim merged into its outer neighbour wherever every operand steps contiguously
// across the pair), so a permuted or broadcast 4-D view costs the kernel at most a few divisions
// per element and a layout contiguous for every operand collapses to a single dim of stride 1.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// Dims left after coalescing; the ops layer's tensors have at most 4.
inline constexpr int kMaxStridedRank = 8;

template <int K>
struct StridedLayout {
  int rank = 0;  // 0: a single element
  int64_t size[kMaxStridedRank] = {};
  int64_t stride[K][kMaxStridedRank] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= size[d];
    return n;
  }
  // Every operand is the same dense run: element i is at offset i for all of them.
  bool linear() const {
    if (rank > 1) return false;
    for (int k = 0; k < K; ++k)
      if (rank == 1 && stride[k][0] != 1) return false;
    return true;
  }
};

// Coalesces shape with each operand's strides (each of shape's rank). Returns false when more
// than kMaxStridedRank dims remain.
template <int K>
bool make_strided_layout(const std::vector<int64_t>& shape,
                         const std::array<const std::vector<int64_t>*, K>& strides,
                         StridedLayout<K>& out) {
  out = StridedLayout<K>{};
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = out.rank > 0;
    for (int k = 0; k < K && merge; ++k)
      merge = out.stride[k][out.rank - 1] == (*strides[k])[d] * shape[d];
    if (merge) {
      out.size[out.rank - 1] *= shape[d];
      for (int k = 0; k < K; ++k) out.stride[k][out.rank - 1] = (*strides[k])[d];
      continue;
    }
    if (out.rank == kMaxStridedRank) return false;
    out.size[out.rank] = shape[d];
    for (int k = 0; k < K; ++k) out.stride[k][out.rank] = (*strides[k])[d];
    ++out.rank;
  }
  return true;
}

// The offsets of row-major element i in each operand.
template <int K>
__device__ __forceinline__ void strided_offsets(const StridedLayout<K>& l, int64_t i,
                                                int64_t (&off)[K]) {
  for (int k = 0; k < K; ++k) off[k] = 0;
  for (int d = l.rank - 1; d >= 0; --d) {
    const int64_t idx = d > 0 ? i % l.size[d] : i;
    i /= l.size[d];
    for (int k = 0; k < K; ++k) off[k] += idx * l.stride[k][d];
  }
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
