// The sinusoidal timestep embedding (emb [N, 128] at the UNet's sizes: bound by launch latency).
//
// Timestep embedding forward: one thread per (row, i) writes sin and cos of t·f_i; backward: one
// block per row accumulates its terms in double (they alternate in sign), then sums lanes with
// warp shuffles and warps in a fixed order, so results are identical run to run. Float
// frequencies, sines and cosines are evaluated in double and rounded: that matches glibc's
// expf/sinf/cosf (the CPU backend's) where CUDA's float versions may be an ulp or two off, which
// t·f up to ~1000 would amplify. The op is tiny; the double math costs nothing measurable.
#include "kernels/embedding.cuh"

#include <algorithm>
#include <cmath>

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;
constexpr int kRowBlock = 128;

// exp, sin and cos rounded to T from double (see the top of the file).
__device__ __forceinline__ float exp_rounded(float x) {
  return static_cast<float>(::exp(static_cast<double>(x)));
}
__device__ __forceinline__ double exp_rounded(double x) { return ::exp(x); }
__device__ __forceinline__ float sin_rounded(float x) {
  return static_cast<float>(::sin(static_cast<double>(x)));
}
__device__ __forceinline__ double sin_rounded(double x) { return ::sin(x); }
__device__ __forceinline__ float cos_rounded(float x) {
  return static_cast<float>(::cos(static_cast<double>(x)));
}
__device__ __forceinline__ double cos_rounded(double x) { return ::cos(x); }

// f_i = exp(−i·scale) with the product formed in T, as the CPU backend does.
template <typename T>
__device__ __forceinline__ T frequency(int64_t i, T scale) {
  return exp_rounded(static_cast<T>(i) * -scale);
}

template <typename T>
T frequency_scale(int64_t dim) {
  return static_cast<T>(std::log(10000.0) / static_cast<double>(dim / 2 - 1));
}

template <typename T>
__global__ void embedding_forward_kernel(const T* t, int64_t n, int64_t dim, T scale, T* emb) {
  const int64_t half = dim / 2, cols = dim - half;  // half, plus the zero column of an odd dim
  for (int64_t k = thread_index(); k < n * cols; k += thread_count()) {
    const int64_t r = k / cols, i = k % cols;
    T* row = emb + r * dim;
    if (i == half) {
      row[dim - 1] = T(0);
      continue;
    }
    const T arg = t[r] * frequency(i, scale);
    row[i] = sin_rounded(arg);
    row[half + i] = cos_rounded(arg);
  }
}

template <typename T>
__global__ void __launch_bounds__(kRowBlock)
    embedding_backward_kernel(const T* t, const T* demb, int64_t n, int64_t dim, T scale, T* dt) {
  __shared__ double s_warp[kRowBlock / 32];
  const int64_t half = dim / 2;
  for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const T* g = demb + r * dim;
    double acc = 0;
    for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
      const T f = frequency(i, scale), arg = t[r] * f;
      acc += static_cast<double>(f) *
             (static_cast<double>(g[i]) * static_cast<double>(cos_rounded(arg)) -
              static_cast<double>(g[half + i]) * static_cast<double>(sin_rounded(arg)));
    }
    acc = warp_sum(acc);
    if (threadIdx.x % 32 == 0) s_warp[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < kRowBlock / 32; ++w) acc += s_warp[w];
      dt[r] = static_cast<T>(acc);
    }
    __syncthreads();  // the next row reuses s_warp
  }
}

}  // namespace

template <typename T>
void launch_timestep_embedding_forward(const T* t, int64_t n, int64_t dim, T* emb,
                                       cudaStream_t stream) {
  if (n <= 0) return;
  launch(embedding_forward_kernel<T>, blocks_for(n * (dim - dim / 2), kBlock), kBlock, 0, stream,
         t, n, dim, frequency_scale<T>(dim), emb);
}

template <typename T>
void launch_timestep_embedding_backward(const T* t, const T* demb, int64_t n, int64_t dim, T* dt,
                                        cudaStream_t stream) {
  if (n <= 0) return;
  launch(embedding_backward_kernel<T>, static_cast<int>(std::min<int64_t>(n, kMaxBlocks)),
         kRowBlock, 0, stream, t, demb, n, dim, frequency_scale<T>(dim), dt);
}

#define S2DM_INSTANTIATE_EMBEDDING(T)                                                         \
  template void launch_timestep_embedding_forward<T>(const T*, int64_t, int64_t, T*,          \
                                                     cudaStream_t);                           \
  template void launch_timestep_embedding_backward<T>(const T*, const T*, int64_t, int64_t, T*, \
                                                      cudaStream_t);
S2DM_INSTANTIATE_EMBEDDING(float)
S2DM_INSTANTIATE_EMBEDDING(double)
#undef S2DM_INSTANTIATE_EMBEDDING

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
