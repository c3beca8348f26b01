// Last-dim softmax kernels.
//
// Launch shape: blocks of 256 threads. Rows of up to kWarpRowMax elements get one warp each (eight
// rows per block), so short rows (attention scores, small heads) keep all lanes busy without a
// block-wide barrier; longer rows get a whole block each. Either way the row's threads stride it
// with unit-stride, coalesced accesses, and a grid-stride loop over rows lets any row count fit
// one launch.
//
// Forward makes three passes over the row: the max, then the exponentials (written to y) and
// their sum, then the scaling by 1/sum, as the CPU backend does; it may also write each row's
// log-sum-exp (max + log sum), which attention saves for its backward. Backward makes two: Σ dy·y, then
// dx = y·(dy − Σ). Reductions are xor-butterfly shuffles, which leave the identical total in every
// lane (addition and max are commutative), combined across warps through shared memory in warp
// order: a fixed order, so results are identical run to run.
#include "kernels/softmax.cuh"

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int64_t kWarpRowMax = 1024;

struct MaxOp {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a < b ? b : a;
  }
};
struct SumOp {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};

// The threads that share a row: a warp, or the whole block when kBlockRow.
struct RowGroup {
  int64_t first_row, row_step;
  int lane, width;
};

template <bool kBlockRow>
__device__ __forceinline__ RowGroup row_group() {
  if constexpr (kBlockRow) return {blockIdx.x, gridDim.x, static_cast<int>(threadIdx.x), kThreads};
  const int warp = static_cast<int>(threadIdx.x) / 32;
  return {static_cast<int64_t>(blockIdx.x) * kWarps + warp,
          static_cast<int64_t>(gridDim.x) * kWarps, static_cast<int>(threadIdx.x) % 32, 32};
}

// op over the row group, returned to each of its threads. Every thread of the group calls it.
template <bool kBlockRow, typename T, typename Op>
__device__ T group_reduce(T v, Op op, T* slots) {
  v = warp_reduce(v, op);
  if (!kBlockRow) return v;
  if (threadIdx.x % 32 == 0) slots[threadIdx.x / 32] = v;
  __syncthreads();
  v = slots[0];
  for (int w = 1; w < kWarps; ++w) v = op(v, slots[w]);
  __syncthreads();  // the next reduction reuses the slots
  return v;
}

template <typename T, bool kBlockRow>
__global__ void __launch_bounds__(kThreads)
    softmax_forward_kernel(const T* x, int64_t rows, int64_t cols, T* y, T* lse) {
  __shared__ T slots[kWarps];
  const RowGroup g = row_group<kBlockRow>();
  for (int64_t r = g.first_row; r < rows; r += g.row_step) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T mx = xr[0];
    for (int64_t j = g.lane; j < cols; j += g.width) mx = MaxOp{}(mx, xr[j]);
    mx = group_reduce<kBlockRow>(mx, MaxOp{}, slots);
    T sum = T(0);
    for (int64_t j = g.lane; j < cols; j += g.width) {
      const T e = exp_of(xr[j] - mx);
      yr[j] = e;
      sum += e;
    }
    sum = group_reduce<kBlockRow>(sum, SumOp{}, slots);
    if (lse && g.lane == 0) lse[r] = mx + log_of(sum);
    const T inv = T(1) / sum;
    for (int64_t j = g.lane; j < cols; j += g.width) yr[j] *= inv;
  }
}

template <typename T, bool kBlockRow>
__global__ void __launch_bounds__(kThreads)
    softmax_backward_kernel(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx) {
  __shared__ T slots[kWarps];
  const RowGroup g = row_group<kBlockRow>();
  for (int64_t r = g.first_row; r < rows; r += g.row_step) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    T dot = T(0);
    for (int64_t j = g.lane; j < cols; j += g.width) dot += dyr[j] * yr[j];
    dot = group_reduce<kBlockRow>(dot, SumOp{}, slots);
    for (int64_t j = g.lane; j < cols; j += g.width) dxr[j] = yr[j] * (dyr[j] - dot);
  }
}

// Blocks for `rows` rows: eight per block for warp rows, one per block otherwise.
int grid_for(int64_t rows, bool block_rows) { return blocks_for(rows, block_rows ? 1 : kWarps); }

}  // namespace

template <typename T>
void launch_softmax_forward(const T* x, int64_t rows, int64_t cols, T* y, T* lse,
                            cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  if (cols > kWarpRowMax)
    launch(softmax_forward_kernel<T, true>, grid_for(rows, true), kThreads, 0, stream, x, rows,
           cols, y, lse);
  else
    launch(softmax_forward_kernel<T, false>, grid_for(rows, false), kThreads, 0, stream, x, rows,
           cols, y, lse);
}

template <typename T>
void launch_softmax_backward(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx,
                             cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  if (cols > kWarpRowMax)
    launch(softmax_backward_kernel<T, true>, grid_for(rows, true), kThreads, 0, stream, y, dy,
           rows, cols, dx);
  else
    launch(softmax_backward_kernel<T, false>, grid_for(rows, false), kThreads, 0, stream, y, dy,
           rows, cols, dx);
}

#define S2DM_INSTANTIATE_SOFTMAX(T)                                                         \
  template void launch_softmax_forward<T>(const T*, int64_t, int64_t, T*, T*, cudaStream_t); \
  template void launch_softmax_backward<T>(const T*, const T*, int64_t, int64_t, T*,        \
                                           cudaStream_t);
S2DM_INSTANTIATE_SOFTMAX(float)
S2DM_INSTANTIATE_SOFTMAX(double)
#undef S2DM_INSTANTIATE_SOFTMAX

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
