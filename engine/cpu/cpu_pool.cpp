// CPU pooling: max_pool2d and avg_pool2d, forward and backward, on the window rules of
// kernels/pool_math.h (shared with the kernels).
//
// Work is split over the N·C planes (OpenMP), so every output element has one writer. Backward
// scatters each output's gradient into its plane in output order (oy, then ox): dx elements
// receive their terms in the same order as the kernels' per-input gather, so the two agree bit
// for bit. Max-pool backward recomputes each window's argmax from x instead of storing indices.
#include <limits>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"
#include "engine/pool_geometry.h"
#include "kernels/pool_math.h"

namespace s2dm {

void CpuBackend::max_pool2d_forward(const Tensor& x, Pool2dParams p, Tensor& y) {
  const pool::Geometry g = pool_geometry("max_pool2d", x, y, p);
  const int64_t planes = x.size(0) * x.size(1);
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel for schedule(static) if (y.numel() * p.kh * p.kw > cpu::kParallelGrain)
    for (int64_t q = 0; q < planes; ++q) {
      const T* plane = px + q * g.h * g.w;
      T* out = py + q * g.ho * g.wo;
      for (int64_t oy = 0; oy < g.ho; ++oy)
        for (int64_t ox = 0; ox < g.wo; ++ox)
          pool::window_argmax(plane, g, pool::window_of(g, oy, ox), neg_inf, &out[oy * g.wo + ox]);
    }
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& x, const Tensor& dy, Pool2dParams p,
                                     Tensor& dx) {
  const pool::Geometry g = pool_geometry("max_pool2d backward", x, dy, p);
  S2DM_CHECK(dx.shape() == x.shape(), "max_pool2d backward: gradient {} for input {}", dx.str(),
             x.str());
  const int64_t planes = x.size(0) * x.size(1);
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel for schedule(static) if (dy.numel() * p.kh * p.kw > cpu::kParallelGrain)
    for (int64_t q = 0; q < planes; ++q) {
      const T* plane = px + q * g.h * g.w;
      const T* grad = pdy + q * g.ho * g.wo;
      T* out = pdx + q * g.h * g.w;
      for (int64_t i = 0; i < g.h * g.w; ++i) out[i] = T(0);
      for (int64_t oy = 0; oy < g.ho; ++oy) {
        for (int64_t ox = 0; ox < g.wo; ++ox) {
          T value;
          const pool::Window win = pool::window_of(g, oy, ox);
          out[pool::window_argmax(plane, g, win, neg_inf, &value)] += grad[oy * g.wo + ox];
        }
      }
    }
  });
}

void CpuBackend::avg_pool2d_forward(const Tensor& x, Pool2dParams p, Tensor& y) {
  const pool::Geometry g = pool_geometry("avg_pool2d", x, y, p);
  const int64_t planes = x.size(0) * x.size(1);
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (y.numel() * p.kh * p.kw > cpu::kParallelGrain)
    for (int64_t q = 0; q < planes; ++q) {
      const T* plane = px + q * g.h * g.w;
      T* out = py + q * g.ho * g.wo;
      for (int64_t oy = 0; oy < g.ho; ++oy) {
        for (int64_t ox = 0; ox < g.wo; ++ox) {
          const pool::Window win = pool::window_of(g, oy, ox);
          T sum = T(0);
          for (int64_t iy = win.y0; iy < win.y1; ++iy)
            for (int64_t ix = win.x0; ix < win.x1; ++ix) sum += plane[iy * g.w + ix];
          out[oy * g.wo + ox] = sum / static_cast<T>(pool::avg_divisor(g, win));
        }
      }
    }
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& dy, Pool2dParams p, Tensor& dx) {
  const pool::Geometry g = pool_geometry("avg_pool2d backward", dx, dy, p);
  const int64_t planes = dx.size(0) * dx.size(1);
  cpu::dispatch_float(dx.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (dy.numel() * p.kh * p.kw > cpu::kParallelGrain)
    for (int64_t q = 0; q < planes; ++q) {
      const T* grad = pdy + q * g.ho * g.wo;
      T* out = pdx + q * g.h * g.w;
      for (int64_t i = 0; i < g.h * g.w; ++i) out[i] = T(0);
      for (int64_t oy = 0; oy < g.ho; ++oy) {
        for (int64_t ox = 0; ox < g.wo; ++ox) {
          const pool::Window win = pool::window_of(g, oy, ox);
          const T share = grad[oy * g.wo + ox] / static_cast<T>(pool::avg_divisor(g, win));
          for (int64_t iy = win.y0; iy < win.y1; ++iy)
            for (int64_t ix = win.x0; ix < win.x1; ++ix) out[iy * g.w + ix] += share;
        }
      }
    }
  });
}

}  // namespace s2dm
