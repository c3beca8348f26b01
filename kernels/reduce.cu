// Reductions: sums over dims (sum_to) and the sum of squares.
//
// x is seen as [output index o] × [reduced index r], each element's offset the sum of o's and r's
// offsets over the kept and reduced dims (SumToShape). Two launch shapes, picked from the shape:
// - block per output, when the innermost dim of x is reduced and the reduction is long
//   (per-channel sums of an activation, the UNet bias gradient [N,C,H,W] → [1,C,1,1], a full
//   sum): the block's threads stride over r, so each warp reads a contiguous run; a shuffle tree
//   per warp, then thread 0 adds the warp totals in warp order. Blocks have the power of two
//   ≥ the run in [32, 256] threads.
// - thread per output, when the innermost dim is kept (column sums such as a Linear bias gradient
//   [B,C] → [1,C]: neighbouring threads read neighbouring addresses) or the reduction is short:
//   each thread adds its output's elements in order.
// When there are few outputs and much to reduce, the reduced range is cut into `splits` chunks
// along gridDim.y, enough for about kTargetBlocks blocks (two per SM of a large GPU); each chunk
// writes a double partial to the workspace [splits, n_out] and a second kernel adds each output's
// partials in chunk order. There are no atomics and every choice depends on the shape alone, so
// results are identical run to run, which bit-exact training resume relies on. Accumulation is
// in double, as in the CPU backend. sum_squares is the same machinery with one output and each
// element squared, written in double.
#include "kernels/reduce.cuh"

#include <algorithm>

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kMaxThreads = 256;
constexpr int64_t kTargetBlocks = 256;
constexpr int64_t kMinBlockRun = 64;      // shorter reductions take one thread per output
constexpr int64_t kMinBlockChunk = 8192;  // reduced elements per block before splitting pays
constexpr int64_t kMinThreadChunk = 64;   // reduced elements per thread before splitting pays

struct Plan {
  bool per_thread = false;
  int threads = kMaxThreads;  // block size of the block-per-output kernel
  int64_t n_out = 1, n_red = 1;
  int64_t splits = 1, chunk = 1;  // the reduced range in `splits` chunks of `chunk` elements
};

Plan make_plan(int64_t n_out, int64_t n_red, bool inner_kept) {
  Plan p;
  p.n_out = n_out;
  p.n_red = n_red;
  p.per_thread = inner_kept || n_red < kMinBlockRun;
  const int64_t outs = std::max<int64_t>(n_out, 1), reds = std::max<int64_t>(n_red, 1);
  const int64_t splits =
      p.per_thread ? std::min(reds / kMinThreadChunk,
                              ceil_div(kTargetBlocks, ceil_div(outs, kMaxThreads)))
                   : std::min(reds / kMinBlockChunk, ceil_div(kTargetBlocks, outs));
  p.chunk = ceil_div(reds, std::max<int64_t>(splits, 1));
  p.splits = ceil_div(reds, p.chunk);
  while (p.threads > 32 && p.threads / 2 >= p.chunk) p.threads /= 2;
  return p;
}

Plan plan_for(const SumToShape& s) {
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < s.kept_rank; ++d) n_out *= s.kept_size[d];
  for (int d = 0; d < s.red_rank; ++d) n_red *= s.red_size[d];
  const bool inner_kept = s.kept_rank > 0 && s.kept_stride[s.kept_rank - 1] == 1;
  return make_plan(n_out, n_red, inner_kept);
}

// The offset of row-major index i over `rank` dims of the given sizes and strides.
__device__ __forceinline__ int64_t offset_of(const int64_t* size, const int64_t* stride, int rank,
                                             int64_t i) {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    off += (d > 0 ? i % size[d] : i) * stride[d];
    i /= size[d];
  }
  return off;
}

// The block's total, in thread 0. Every thread must call it; the shared slots are free again
// when it returns.
__device__ double block_total(double v) {
  __shared__ double s_warp[kMaxThreads / 32];
  v = warp_sum(v);
  const unsigned warp = threadIdx.x / 32, warps = blockDim.x / 32;
  if (threadIdx.x % 32 == 0) s_warp[warp] = v;
  __syncthreads();
  if (threadIdx.x == 0)
    for (unsigned w = 1; w < warps; ++w) v += s_warp[w];
  __syncthreads();
  return v;
}

template <bool kSquare, typename T>
__device__ __forceinline__ double term(T x) {
  const double v = static_cast<double>(x);
  return kSquare ? v * v : v;
}

// Output o's chunk blockIdx.y goes to out[blockIdx.y · n_out + o].
template <typename T, typename Out, bool kSquare>
__global__ void __launch_bounds__(kMaxThreads)
    sum_block_kernel(const T* x, SumToShape s, Plan p, Out* out) {
  const int64_t r0 = blockIdx.y * p.chunk;
  const int64_t r1 = r0 + p.chunk < p.n_red ? r0 + p.chunk : p.n_red;
  for (int64_t o = blockIdx.x; o < p.n_out; o += gridDim.x) {
    const T* xo = x + offset_of(s.kept_size, s.kept_stride, s.kept_rank, o);
    double acc = 0;
    for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x)
      acc += term<kSquare>(xo[offset_of(s.red_size, s.red_stride, s.red_rank, r)]);
    acc = block_total(acc);
    if (threadIdx.x == 0) out[blockIdx.y * p.n_out + o] = static_cast<Out>(acc);
  }
}

template <typename T, typename Out, bool kSquare>
__global__ void __launch_bounds__(kMaxThreads)
    sum_thread_kernel(const T* x, SumToShape s, Plan p, Out* out) {
  const int64_t r0 = blockIdx.y * p.chunk;
  const int64_t r1 = r0 + p.chunk < p.n_red ? r0 + p.chunk : p.n_red;
  for (int64_t o = blockIdx.x * int64_t{kMaxThreads} + threadIdx.x; o < p.n_out;
       o += gridDim.x * int64_t{kMaxThreads}) {
    const T* xo = x + offset_of(s.kept_size, s.kept_stride, s.kept_rank, o);
    double acc = 0;
    for (int64_t r = r0; r < r1; ++r)
      acc += term<kSquare>(xo[offset_of(s.red_size, s.red_stride, s.red_rank, r)]);
    out[blockIdx.y * p.n_out + o] = static_cast<Out>(acc);
  }
}

// out[o] = Σ_k partial[k · n_out + o], k in order.
template <typename Out>
__global__ void __launch_bounds__(kMaxThreads)
    sum_partials_kernel(const double* partial, int64_t splits, int64_t n_out, Out* out) {
  for (int64_t o = blockIdx.x * int64_t{kMaxThreads} + threadIdx.x; o < n_out;
       o += gridDim.x * int64_t{kMaxThreads}) {
    double acc = 0;
    for (int64_t k = 0; k < splits; ++k) acc += partial[k * n_out + o];
    out[o] = static_cast<Out>(acc);
  }
}

template <bool kSquare, typename T, typename Out>
void launch_pass(const T* x, const SumToShape& s, const Plan& p, Out* out, cudaStream_t stream) {
  const unsigned splits = static_cast<unsigned>(p.splits);
  if (p.per_thread)
    launch(sum_thread_kernel<T, Out, kSquare>, dim3(blocks_for(p.n_out, kMaxThreads), splits),
           kMaxThreads, 0, stream, x, s, p, out);
  else
    launch(sum_block_kernel<T, Out, kSquare>, dim3(blocks_for(p.n_out, 1), splits),
           static_cast<unsigned>(p.threads), 0, stream, x, s, p, out);
}

template <bool kSquare, typename T, typename Out>
void launch_sum(const T* x, const SumToShape& s, const Plan& p, Out* out, double* workspace,
                cudaStream_t stream) {
  if (p.splits == 1) {
    launch_pass<kSquare>(x, s, p, out, stream);
    return;
  }
  launch_pass<kSquare>(x, s, p, workspace, stream);
  launch(sum_partials_kernel<Out>, blocks_for(p.n_out, kMaxThreads), kMaxThreads, 0, stream,
         static_cast<const double*>(workspace), p.splits, p.n_out, out);
}

SumToShape dense_shape(int64_t n) {
  SumToShape s;
  s.red_rank = 1;
  s.red_size[0] = n;
  s.red_stride[0] = 1;
  return s;
}

}  // namespace

int64_t sum_to_workspace(const SumToShape& shape) {
  const Plan p = plan_for(shape);
  return p.splits > 1 ? p.splits * p.n_out : 0;
}

template <typename T>
void launch_sum_to(const T* x, const SumToShape& shape, T* out, double* workspace,
                   cudaStream_t stream) {
  const Plan p = plan_for(shape);
  if (p.n_out > 0) launch_sum<false>(x, shape, p, out, workspace, stream);
}

int64_t sum_squares_workspace(int64_t n) {
  const Plan p = plan_for(dense_shape(n));
  return p.splits > 1 ? p.splits : 0;
}

template <typename T>
void launch_sum_squares(const T* x, int64_t n, double* out, double* workspace,
                        cudaStream_t stream) {
  const SumToShape s = dense_shape(n);
  launch_sum<true>(x, s, plan_for(s), out, workspace, stream);
}

template void launch_sum_to<float>(const float*, const SumToShape&, float*, double*,
                                   cudaStream_t);
template void launch_sum_to<double>(const double*, const SumToShape&, double*, double*,
                                    cudaStream_t);
template void launch_sum_squares<float>(const float*, int64_t, double*, double*, cudaStream_t);
template void launch_sum_squares<double>(const double*, int64_t, double*, double*, cudaStream_t);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
