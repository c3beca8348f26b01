// Nearest 2x upsampling, constant 2-D padding and bilinear resizing. At the UNet's sizes (N·C <= 1024 planes of
// 32x32 or less) they are bound by memory or by launch latency, so each is one simple pass.
//
// Spatial kernels: 256-thread blocks in a grid-stride loop, one thread per element of the smaller
// tensor (of y for pad forward), so every output element has exactly one writer:
// - upsample forward: a thread reads one x element and writes its 2x2 block (a warp writes two
//   contiguous row segments);
// - upsample backward: a thread sums its 2x2 window of dy as (a + b) + (c + d), the CPU backend's
//   order: no atomics, and the results are bit-identical to the CPU's;
// - pad: forward copies x or writes the value, backward copies the interior of dy;
// - bilinear forward: a thread computes its output's row and column taps (resample_math.h, as the
//   CPU backend) and reads four elements;
// - bilinear backward: a thread gathers over the outputs that read its input element: their rows
//   and columns are contiguous ranges, found by binary search over the taps (resizing 32 to 299,
//   about 10 rows times 10 columns per element). The CPU backend scatters instead, so the two
//   agree to rounding, not bit for bit.
#include "kernels/resample.cuh"

#include <cmath>

#include "kernels/device_common.cuh"
#include "kernels/resample_math.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;

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

template <typename T>
__global__ void bilinear_forward_kernel(const T* x, PlaneShape s, int64_t ho, int64_t wo, T* y) {
  const int64_t out_plane = ho * wo, total = s.planes * out_plane;
  const T scale_h = resample::linear_scale<T>(s.h, ho);
  const T scale_w = resample::linear_scale<T>(s.w, wo);
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / out_plane, i = k % out_plane / wo, j = k % wo;
    const resample::LinearTap<T> ty = resample::linear_tap<T>(i, scale_h, s.h, ho);
    const resample::LinearTap<T> tx = resample::linear_tap<T>(j, scale_w, s.w, wo);
    y[k] = resample::bilinear_at(x + q * s.h * s.w, s.w, ty, tx);
  }
}

template <typename T>
__global__ void bilinear_backward_kernel(const T* dy, PlaneShape s, int64_t ho, int64_t wo,
                                         T* dx) {
  const int64_t in_plane = s.h * s.w, total = s.planes * in_plane;
  const T scale_h = resample::linear_scale<T>(s.h, ho);
  const T scale_w = resample::linear_scale<T>(s.w, wo);
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / in_plane, i = k % in_plane / s.w, j = k % s.w;
    const int64_t r0 = resample::first_tap_at_least<T>(i - 1, scale_h, s.h, ho);
    const int64_t r1 = resample::first_tap_at_least<T>(i + 1, scale_h, s.h, ho);
    const int64_t c0 = resample::first_tap_at_least<T>(j - 1, scale_w, s.w, wo);
    const int64_t c1 = resample::first_tap_at_least<T>(j + 1, scale_w, s.w, wo);
    const T* grad = dy + q * ho * wo;
    T acc = T(0);
    for (int64_t oy = r0; oy < r1; ++oy) {
      const T wy = resample::tap_weight(resample::linear_tap<T>(oy, scale_h, s.h, ho), i);
      T row = T(0);
      for (int64_t ox = c0; ox < c1; ++ox) {
        const T wx = resample::tap_weight(resample::linear_tap<T>(ox, scale_w, s.w, wo), j);
        row += wx * grad[oy * wo + ox];
      }
      acc += wy * row;
    }
    dx[k] = acc;
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

template <typename T>
void launch_upsample_bilinear2d_forward(const T* x, PlaneShape shape, int64_t ho, int64_t wo, T* y,
                                        cudaStream_t stream) {
  const int64_t total = shape.planes * ho * wo;
  if (total <= 0) return;
  launch(bilinear_forward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, x, shape, ho,
         wo, y);
}

template <typename T>
void launch_upsample_bilinear2d_backward(const T* dy, PlaneShape shape, int64_t ho, int64_t wo,
                                         T* dx, cudaStream_t stream) {
  const int64_t total = shape.planes * shape.h * shape.w;
  if (total <= 0) return;
  launch(bilinear_backward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, dy, shape, ho,
         wo, dx);
}

#define S2DM_INSTANTIATE_RESAMPLE(T)                                                               \
  template void launch_upsample_nearest2x_forward<T>(const T*, PlaneShape, T*, cudaStream_t);      \
  template void launch_upsample_nearest2x_backward<T>(const T*, PlaneShape, T*, cudaStream_t);     \
  template void launch_pad2d_forward<T>(const T*, PlaneShape, Pad2d, T, T*, cudaStream_t);         \
  template void launch_pad2d_backward<T>(const T*, PlaneShape, Pad2d, T*, cudaStream_t);         \
  template void launch_upsample_bilinear2d_forward<T>(const T*, PlaneShape, int64_t, int64_t, T*,  \
                                                      cudaStream_t);                               \
  template void launch_upsample_bilinear2d_backward<T>(const T*, PlaneShape, int64_t, int64_t, T*, \
                                                       cudaStream_t);
S2DM_INSTANTIATE_RESAMPLE(float)
S2DM_INSTANTIATE_RESAMPLE(double)
#undef S2DM_INSTANTIATE_RESAMPLE

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
