// Nearest 2x upsampling, constant 2-D padding and the sinusoidal timestep embedding. At the
// UNet's sizes (N·C <= 1024 planes of 32x32 or less; emb [N, 128]) they are bound by memory or by
// launch latency, so each is one simple pass.
//
// Spatial kernels: 256-thread blocks in a grid-stride loop, one thread per element of the smaller
// tensor (of y for pad forward), so every output element has exactly one writer:
// - upsample forward: a thread reads one x element and writes its 2x2 block (a warp writes two
//   contiguous row segments);
// - upsample backward: a thread sums its 2x2 window of dy as (a + b) + (c + d), the CPU backend's
//   order: no atomics, and the results are bit-identical to the CPU's;
// - pad: forward copies x or writes the value, backward copies the interior of dy.
//
// Timestep embedding forward: one thread per (row, i) writes sin and cos of t·f_i; backward: one
// block per row accumulates its terms in double (they alternate in sign), then sums lanes with
// warp shuffles and warps in a fixed order, so results are identical run to run. Float
// frequencies, sines and cosines are evaluated in double and rounded: that matches glibc's
// expf/sinf/cosf (the CPU backend's) where CUDA's float versions may be an ulp or two off, which
// t·f up to ~1000 would amplify. The op is tiny; the double math costs nothing measurable.
#include "kernels/resample.cuh"

#include <algorithm>
#include <cmath>

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;
constexpr int64_t kMaxBlocks = 65535;
constexpr int kRowBlock = 128;
constexpr unsigned kFullMask = 0xffffffffu;

int blocks_for(int64_t threads) {
  return static_cast<int>(std::clamp<int64_t>(ceil_div(threads, kBlock), 1, kMaxBlocks));
}

__device__ __forceinline__ int64_t thread_index() {
  return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ int64_t thread_count() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

template <typename T>
__global__ void upsample_forward_kernel(const T* x, PlaneShape s, T* y) {
  const int64_t hw = s.h * s.w, wo = 2 * s.w, total = s.planes * hw;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t p = k / hw, i = k % hw / s.w, j = k % s.w;
    T* out = y + p * 4 * hw + 2 * i * wo + 2 * j;
    const T v = x[k];
    out[0] = v;
    out[1] = v;
    out[wo] = v;
    out[wo + 1] = v;
  }
}

template <typename T>
__global__ void upsample_backward_kernel(const T* dy, PlaneShape s, T* dx) {
  const int64_t hw = s.h * s.w, wo = 2 * s.w, total = s.planes * hw;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t p = k / hw, i = k % hw / s.w, j = k % s.w;
    const T* in = dy + p * 4 * hw + 2 * i * wo + 2 * j;
    dx[k] = (in[0] + in[1]) + (in[wo] + in[wo + 1]);
  }
}

template <typename T>
__global__ void pad_forward_kernel(const T* x, PlaneShape s, Pad2d pad, T value, T* y) {
  const int64_t wo = s.w + pad.left + pad.right, plane = (s.h + pad.top + pad.bottom) * wo;
  const int64_t total = s.planes * plane;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / plane, i = k % plane / wo - pad.top, j = k % wo - pad.left;
    const bool inside = i >= 0 && i < s.h && j >= 0 && j < s.w;
    y[k] = inside ? x[(q * s.h + i) * s.w + j] : value;
  }
}

template <typename T>
__global__ void pad_backward_kernel(const T* dy, PlaneShape s, Pad2d pad, T* dx) {
  const int64_t wo = s.w + pad.left + pad.right, plane = (s.h + pad.top + pad.bottom) * wo;
  const int64_t hw = s.h * s.w, total = s.planes * hw;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / hw, i = k % hw / s.w, j = k % s.w;
    dx[k] = dy[q * plane + (i + pad.top) * wo + j + pad.left];
  }
}

// exp, sin and cos rounded to T from double (see the top of the file).
__device__ __forceinline__ float exp_of(float x) {
  return static_cast<float>(::exp(static_cast<double>(x)));
}
__device__ __forceinline__ double exp_of(double x) { return ::exp(x); }
__device__ __forceinline__ float sin_of(float x) {
  return static_cast<float>(::sin(static_cast<double>(x)));
}
__device__ __forceinline__ double sin_of(double x) { return ::sin(x); }
__device__ __forceinline__ float cos_of(float x) {
  return static_cast<float>(::cos(static_cast<double>(x)));
}
__device__ __forceinline__ double cos_of(double x) { return ::cos(x); }

// f_i = exp(−i·scale) with the product formed in T, as the CPU backend does.
template <typename T>
__device__ __forceinline__ T frequency(int64_t i, T scale) {
  return exp_of(static_cast<T>(i) * -scale);
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
    row[i] = sin_of(arg);
    row[half + i] = cos_of(arg);
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
             (static_cast<double>(g[i]) * static_cast<double>(cos_of(arg)) -
              static_cast<double>(g[half + i]) * static_cast<double>(sin_of(arg)));
    }
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(kFullMask, acc, offset);
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
void launch_upsample_nearest2x_forward(const T* x, PlaneShape shape, T* y, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(upsample_forward_kernel<T>, blocks_for(total), kBlock, 0, stream, x, shape, y);
}

template <typename T>
void launch_upsample_nearest2x_backward(const T* dy, PlaneShape shape, T* dx, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(upsample_backward_kernel<T>, blocks_for(total), kBlock, 0, stream, dy, shape, dx);
}

template <typename T>
void launch_pad2d_forward(const T* x, PlaneShape shape, Pad2d pad, T value, T* y,
                          cudaStream_t stream) {
  const int64_t total =
      shape.planes * (shape.h + pad.top + pad.bottom) * (shape.w + pad.left + pad.right);
  if (total <= 0) return;
  launch(pad_forward_kernel<T>, blocks_for(total), kBlock, 0, stream, x, shape, pad, value, y);
}

template <typename T>
void launch_pad2d_backward(const T* dy, PlaneShape shape, Pad2d pad, T* dx, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(pad_backward_kernel<T>, blocks_for(total), kBlock, 0, stream, dy, shape, pad, dx);
}

template <typename T>
void launch_timestep_embedding_forward(const T* t, int64_t n, int64_t dim, T* emb,
                                       cudaStream_t stream) {
  if (n <= 0) return;
  launch(embedding_forward_kernel<T>, blocks_for(n * (dim - dim / 2)), kBlock, 0, stream, t, n, dim,
         frequency_scale<T>(dim), emb);
}

template <typename T>
void launch_timestep_embedding_backward(const T* t, const T* demb, int64_t n, int64_t dim, T* dt,
                                        cudaStream_t stream) {
  if (n <= 0) return;
  launch(embedding_backward_kernel<T>, static_cast<int>(std::min<int64_t>(n, kMaxBlocks)),
         kRowBlock, 0, stream, t, demb, n, dim, frequency_scale<T>(dim), dt);
}

#define S2DM_INSTANTIATE_RESAMPLE(T)                                                               \
  template void launch_upsample_nearest2x_forward<T>(const T*, PlaneShape, T*, cudaStream_t);      \
  template void launch_upsample_nearest2x_backward<T>(const T*, PlaneShape, T*, cudaStream_t);     \
  template void launch_pad2d_forward<T>(const T*, PlaneShape, Pad2d, T, T*, cudaStream_t);         \
  template void launch_pad2d_backward<T>(const T*, PlaneShape, Pad2d, T*, cudaStream_t);           \
  template void launch_timestep_embedding_forward<T>(const T*, int64_t, int64_t, T*,               \
                                                     cudaStream_t);                                \
  template void launch_timestep_embedding_backward<T>(const T*, const T*, int64_t, int64_t, T*,    \
                                                      cudaStream_t);
S2DM_INSTANTIATE_RESAMPLE(float)
S2DM_INSTANTIATE_RESAMPLE(double)
#undef S2DM_INSTANTIATE_RESAMPLE

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
