// Nearest 2x upsampling and constant 2-D padding. At the UNet's sizes (N·C <= 1024 planes of
// 32x32 or less) they are bound by memory or by launch latency, so each is one simple pass.
//
// Spatial kernels: 256-thread blocks in a grid-stride loop, one thread per element of the smaller
// tensor (of y for pad forward), so every output element has exactly one writer:
// - upsample forward: a thread reads one x element and writes its 2x2 block (a warp writes two
//   contiguous row segments);
// - upsample backward: a thread sums its 2x2 window of dy as (a + b) + (c + d), the CPU backend's
//   order: no atomics, and the results are bit-identical to the CPU's;
// - pad: forward copies x or writes the value, backward copies the interior of dy.
#include "kernels/resample.cuh"

#include <cmath>

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;
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

}  // namespace

template <typename T>
void launch_upsample_nearest2x_forward(const T* x, PlaneShape shape, T* y, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(upsample_forward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, x, shape, y);
}

template <typename T>
void launch_upsample_nearest2x_backward(const T* dy, PlaneShape shape, T* dx, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(upsample_backward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, dy, shape, dx);
}

template <typename T>
void launch_pad2d_forward(const T* x, PlaneShape shape, Pad2d pad, T value, T* y,
                          cudaStream_t stream) {
  const int64_t total =
      shape.planes * (shape.h + pad.top + pad.bottom) * (shape.w + pad.left + pad.right);
  if (total <= 0) return;
  launch(pad_forward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, x, shape, pad, value,
         y);
}

template <typename T>
void launch_pad2d_backward(const T* dy, PlaneShape shape, Pad2d pad, T* dx, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(pad_backward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, dy, shape, pad, dx);
}

#define S2DM_INSTANTIATE_RESAMPLE(T)                                                               \
  template void launch_upsample_nearest2x_forward<T>(const T*, PlaneShape, T*, cudaStream_t);      \
  template void launch_upsample_nearest2x_backward<T>(const T*, PlaneShape, T*, cudaStream_t);     \
  template void launch_pad2d_forward<T>(const T*, PlaneShape, Pad2d, T, T*, cudaStream_t);         \
  template void launch_pad2d_backward<T>(const T*, PlaneShape, Pad2d, T*, cudaStream_t);
S2DM_INSTANTIATE_RESAMPLE(float)
S2DM_INSTANTIATE_RESAMPLE(double)
#undef S2DM_INSTANTIATE_RESAMPLE

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
