// Reductions on the GPU (or the SIMT emulator) with the semantics of Backend::sum_to and
// Backend::sum_squares in engine/backend.h. Sums accumulate in double, as the CPU backend's do,
// and run in an order fixed by the shape alone: results are identical run to run.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

inline constexpr int kMaxReduceRank = 8;

// x's elements split into kept dims (one output element per index) and reduced dims (summed),
// each list outermost first with its strides into x. Output element o is the row-major index
// over the kept dims; out is dense.
struct SumToShape {
  int kept_rank = 0;
  int64_t kept_size[kMaxReduceRank] = {};
  int64_t kept_stride[kMaxReduceRank] = {};
  int red_rank = 0;
  int64_t red_size[kMaxReduceRank] = {};
  int64_t red_stride[kMaxReduceRank] = {};
};

// Doubles of workspace launch_sum_to needs for shape (0: none, pass null).
int64_t sum_to_workspace(const SumToShape& shape);

// out[o] = Σ over the reduced dims of x. x must have at least one element.
template <typename T>
void launch_sum_to(const T* x, const SumToShape& shape, T* out, double* workspace,
                   cudaStream_t stream);

// Doubles of workspace launch_sum_squares needs for n elements (0: none, pass null).
int64_t sum_squares_workspace(int64_t n);

// *out = Σ x[i]² over the n > 0 dense elements of x, in double.
template <typename T>
void launch_sum_squares(const T* x, int64_t n, double* out, double* workspace,
                        cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
