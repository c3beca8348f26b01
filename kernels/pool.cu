// max_pool2d and avg_pool2d. Inception's pools (3x3 windows over at most 147x147 planes of 64 to
// 2048 channels) are bound by memory, so each op is one simple pass with no shared memory.
//
// 256-thread blocks in a grid-stride loop, one thread per element of the tensor being written, so
// every element has exactly one writer and there are no atomics:
// - forward: a thread scans its output's window (pool_math.h's rules, as the CPU backend);
// - backward: a thread gathers over the outputs whose windows cover its input element
//   (pool::outputs_covering), in output order (oy, then ox), which is the order in which the CPU
//   backend's scatter adds into that element: results are bit-identical to the CPU's. Max-pool
//   backward recomputes each covering window's argmax from x (3x3 windows at stride 1: 9 windows
//   of 9 reads per element, cheap next to storing and reading indices for a pass this small).
#include "kernels/pool.cuh"

#include <cmath>

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;

template <typename T>
__global__ void max_forward_kernel(const T* x, int64_t planes, pool::Geometry g, T* y) {
  const int64_t out_plane = g.ho * g.wo, total = planes * out_plane;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / out_plane, oy = k % out_plane / g.wo, ox = k % g.wo;
    T value;
    pool::window_argmax(x + q * g.h * g.w, g, pool::window_of(g, oy, ox), T(-INFINITY), &value);
    y[k] = value;
  }
}

template <typename T>
__global__ void max_backward_kernel(const T* x, const T* dy, int64_t planes, pool::Geometry g,
                                    T* dx) {
  const int64_t in_plane = g.h * g.w, total = planes * in_plane;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / in_plane, i = k % in_plane, iy = i / g.w, ix = i % g.w;
    const T* plane = x + q * in_plane;
    const T* grad = dy + q * g.ho * g.wo;
    const pool::Span rows = pool::outputs_covering(iy, g.kh, g.sh, g.ph, g.ho);
    const pool::Span cols = pool::outputs_covering(ix, g.kw, g.sw, g.pw, g.wo);
    T acc = T(0);
    for (int64_t oy = rows.lo; oy < rows.hi; ++oy) {
      for (int64_t ox = cols.lo; ox < cols.hi; ++ox) {
        T value;
        const pool::Window win = pool::window_of(g, oy, ox);
        if (pool::window_argmax(plane, g, win, T(-INFINITY), &value) == i)
          acc += grad[oy * g.wo + ox];
      }
    }
    dx[k] = acc;
  }
}

template <typename T>
__global__ void avg_forward_kernel(const T* x, int64_t planes, pool::Geometry g, T* y) {
  const int64_t out_plane = g.ho * g.wo, total = planes * out_plane;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / out_plane, oy = k % out_plane / g.wo, ox = k % g.wo;
    const T* plane = x + q * g.h * g.w;
    const pool::Window win = pool::window_of(g, oy, ox);
    T sum = T(0);
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) sum += plane[iy * g.w + ix];
    y[k] = sum / static_cast<T>(pool::avg_divisor(g, win));
  }
}

template <typename T>
__global__ void avg_backward_kernel(const T* dy, int64_t planes, pool::Geometry g, T* dx) {
  const int64_t in_plane = g.h * g.w, total = planes * in_plane;
  for (int64_t k = thread_index(); k < total; k += thread_count()) {
    const int64_t q = k / in_plane, iy = k % in_plane / g.w, ix = k % g.w;
    const T* grad = dy + q * g.ho * g.wo;
    const pool::Span rows = pool::outputs_covering(iy, g.kh, g.sh, g.ph, g.ho);
    const pool::Span cols = pool::outputs_covering(ix, g.kw, g.sw, g.pw, g.wo);
    T acc = T(0);
    for (int64_t oy = rows.lo; oy < rows.hi; ++oy) {
      for (int64_t ox = cols.lo; ox < cols.hi; ++ox) {
        const int64_t divisor = pool::avg_divisor(g, pool::window_of(g, oy, ox));
        acc += grad[oy * g.wo + ox] / static_cast<T>(divisor);
      }
    }
    dx[k] = acc;
  }
}

}  // namespace

template <typename T>
void launch_max_pool2d_forward(const T* x, int64_t planes, pool::Geometry g, T* y,
                               cudaStream_t stream) {
  const int64_t total = planes * g.ho * g.wo;
  if (total <= 0) return;
  launch(max_forward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, x, planes, g, y);
}

template <typename T>
void launch_max_pool2d_backward(const T* x, const T* dy, int64_t planes, pool::Geometry g, T* dx,
                                cudaStream_t stream) {
  const int64_t total = planes * g.h * g.w;
  if (total <= 0) return;
  launch(max_backward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, x, dy, planes, g,
         dx);
}

template <typename T>
void launch_avg_pool2d_forward(const T* x, int64_t planes, pool::Geometry g, T* y,
                               cudaStream_t stream) {
  const int64_t total = planes * g.ho * g.wo;
  if (total <= 0) return;
  launch(avg_forward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, x, planes, g, y);
}

template <typename T>
void launch_avg_pool2d_backward(const T* dy, int64_t planes, pool::Geometry g, T* dx,
                                cudaStream_t stream) {
  const int64_t total = planes * g.h * g.w;
  if (total <= 0) return;
  launch(avg_backward_kernel<T>, blocks_for(total, kBlock), kBlock, 0, stream, dy, planes, g, dx);
}

#define S2DM_INSTANTIATE_POOL(T)                                                                 \
  template void launch_max_pool2d_forward<T>(const T*, int64_t, pool::Geometry, T*,              \
                                             cudaStream_t);                                      \
  template void launch_max_pool2d_backward<T>(const T*, const T*, int64_t, pool::Geometry, T*,   \
                                              cudaStream_t);                                     \
  template void launch_avg_pool2d_forward<T>(const T*, int64_t, pool::Geometry, T*,              \
                                             cudaStream_t);                                      \
  template void launch_avg_pool2d_backward<T>(const T*, int64_t, pool::Geometry, T*, cudaStream_t);
S2DM_INSTANTIATE_POOL(float)
S2DM_INSTANTIATE_POOL(double)
#undef S2DM_INSTANTIATE_POOL

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
