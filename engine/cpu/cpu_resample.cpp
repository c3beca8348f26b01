// CPU resampling: nearest 2x upsample, constant 2-D pad and bilinear resize, each with its
// backward.
//
// Invariants: tensors are contiguous (backend contract); spatial kernels work plane by plane over
// the N·C planes of [N,C,H,W] so OpenMP splits on planes and every output element is written by
// exactly one thread. Backward kernels overwrite their outputs (no accumulation across calls).
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"
#include "kernels/resample_math.h"

namespace s2dm {

namespace {

struct Planes {
  int64_t planes = 0, h = 0, w = 0;
};

Planes planes_of(const Tensor& t, const char* op) {
  S2DM_CHECK(t.dim() == 4, "{}: expected a 4-D [N,C,H,W] tensor, got {}", op, t.str());
  return {t.size(0) * t.size(1), t.size(2), t.size(3)};
}

}  // namespace

// ---------------------------------------------------------------- nearest 2x upsample

void CpuBackend::upsample_nearest2x_forward(const Tensor& x, Tensor& y) {
  const Planes in = planes_of(x, "upsample_nearest2x");
  S2DM_CHECK(y.shape() == (Shape{x.size(0), x.size(1), 2 * in.h, 2 * in.w}),
             "upsample_nearest2x: output {} does not match input {}", y.str(), x.str());
  const int64_t h = in.h, w = in.w, wo = 2 * w;
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (y.numel() > cpu::kParallelGrain)
    for (int64_t p = 0; p < in.planes; ++p) {
      const T* src = px + p * h * w;
      T* dst = py + p * 4 * h * w;
      for (int64_t i = 0; i < h; ++i) {
        T* row0 = dst + 2 * i * wo;
        for (int64_t j = 0; j < w; ++j) row0[2 * j] = row0[2 * j + 1] = src[i * w + j];
        T* row1 = row0 + wo;
        for (int64_t j = 0; j < wo; ++j) row1[j] = row0[j];
      }
    }
  });
}

void CpuBackend::upsample_nearest2x_backward(const Tensor& dy, Tensor& dx) {
  const Planes in = planes_of(dx, "upsample_nearest2x backward");
  S2DM_CHECK(dy.shape() == (Shape{dx.size(0), dx.size(1), 2 * in.h, 2 * in.w}),
             "upsample_nearest2x backward: gradient {} does not match input {}", dy.str(),
             dx.str());
  const int64_t h = in.h, w = in.w, wo = 2 * w;
  cpu::dispatch_float(dx.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (dy.numel() > cpu::kParallelGrain)
    for (int64_t p = 0; p < in.planes; ++p) {
      const T* src = pdy + p * 4 * h * w;
      T* dst = pdx + p * h * w;
      for (int64_t i = 0; i < h; ++i) {
        const T* row0 = src + 2 * i * wo;
        const T* row1 = row0 + wo;
        for (int64_t j = 0; j < w; ++j)
          dst[i * w + j] = (row0[2 * j] + row0[2 * j + 1]) + (row1[2 * j] + row1[2 * j + 1]);
      }
    }
  });
}

// ---------------------------------------------------------------- constant 2-D pad

void CpuBackend::pad2d_forward(const Tensor& x, Pad2dParams p, Tensor& y) {
  const Planes in = planes_of(x, "pad2d");
  S2DM_CHECK(p.left >= 0 && p.right >= 0 && p.top >= 0 && p.bottom >= 0,
             "pad2d: pads must be non-negative, got ({}, {}, {}, {})", p.left, p.right, p.top,
             p.bottom);
  const int64_t h = in.h, w = in.w, ho = h + p.top + p.bottom, wo = w + p.left + p.right;
  S2DM_CHECK(y.shape() == (Shape{x.size(0), x.size(1), ho, wo}),
             "pad2d: output {} does not match input {} padded by ({}, {}, {}, {})", y.str(),
             x.str(), p.left, p.right, p.top, p.bottom);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T v = static_cast<T>(p.value);
#pragma omp parallel for schedule(static) if (y.numel() > cpu::kParallelGrain)
    for (int64_t q = 0; q < in.planes; ++q) {
      const T* src = px + q * h * w;
      T* dst = py + q * ho * wo;
      for (int64_t i = 0; i < ho; ++i) {
        T* row = dst + i * wo;
        const int64_t si = i - p.top;
        if (si < 0 || si >= h) {
          for (int64_t j = 0; j < wo; ++j) row[j] = v;
          continue;
        }
        for (int64_t j = 0; j < p.left; ++j) row[j] = v;
        for (int64_t j = 0; j < w; ++j) row[p.left + j] = src[si * w + j];
        for (int64_t j = p.left + w; j < wo; ++j) row[j] = v;
      }
    }
  });
}

void CpuBackend::pad2d_backward(const Tensor& dy, Pad2dParams p, Tensor& dx) {
  const Planes in = planes_of(dx, "pad2d backward");
  S2DM_CHECK(p.left >= 0 && p.right >= 0 && p.top >= 0 && p.bottom >= 0,
             "pad2d backward: pads must be non-negative, got ({}, {}, {}, {})", p.left, p.right,
             p.top, p.bottom);
  const int64_t h = in.h, w = in.w, ho = h + p.top + p.bottom, wo = w + p.left + p.right;
  S2DM_CHECK(dy.shape() == (Shape{dx.size(0), dx.size(1), ho, wo}),
             "pad2d backward: gradient {} does not match input {} padded by ({}, {}, {}, {})",
             dy.str(), dx.str(), p.left, p.right, p.top, p.bottom);
  cpu::dispatch_float(dx.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (dx.numel() > cpu::kParallelGrain)
    for (int64_t q = 0; q < in.planes; ++q) {
      const T* src = pdy + q * ho * wo + p.top * wo + p.left;
      T* dst = pdx + q * h * w;
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) dst[i * w + j] = src[i * wo + j];
    }
  });
}

// ---------------------------------------------------------------- bilinear resize

namespace {

// The taps of every output row (or column), computed once per call.
template <typename T>
std::vector<resample::LinearTap<T>> linear_taps(int64_t in_size, int64_t out_size) {
  std::vector<resample::LinearTap<T>> taps(static_cast<size_t>(out_size));
  const T scale = resample::linear_scale<T>(in_size, out_size);
  for (int64_t d = 0; d < out_size; ++d)
    taps[static_cast<size_t>(d)] = resample::linear_tap<T>(d, scale, in_size, out_size);
  return taps;
}

void check_bilinear(const char* op, const Tensor& in, const Tensor& out) {
  S2DM_CHECK(in.dim() == 4 && out.dim() == 4 && out.size(0) == in.size(0) &&
                 out.size(1) == in.size(1) && in.size(2) > 0 && in.size(3) > 0 &&
                 out.size(2) > 0 && out.size(3) > 0,
             "{}: input {} and output {} must be [N,C,H,W] with the same N and C and non-empty "
             "planes",
             op, in.str(), out.str());
}

}  // namespace

void CpuBackend::upsample_bilinear2d_forward(const Tensor& x, Tensor& y) {
  check_bilinear("upsample_bilinear2d", x, y);
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  const int64_t ho = y.size(2), wo = y.size(3);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const auto ty = linear_taps<T>(h, ho), tx = linear_taps<T>(w, wo);
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (y.numel() > cpu::kParallelGrain)
    for (int64_t q = 0; q < planes; ++q) {
      const T* src = px + q * h * w;
      T* dst = py + q * ho * wo;
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j)
          dst[i * wo + j] = resample::bilinear_at(src, w, ty[static_cast<size_t>(i)],
                                                  tx[static_cast<size_t>(j)]);
    }
  });
}

void CpuBackend::upsample_bilinear2d_backward(const Tensor& dy, Tensor& dx) {
  check_bilinear("upsample_bilinear2d backward", dx, dy);
  const int64_t planes = dx.size(0) * dx.size(1), h = dx.size(2), w = dx.size(3);
  const int64_t ho = dy.size(2), wo = dy.size(3);
  cpu::dispatch_float(dx.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const auto ty = linear_taps<T>(h, ho), tx = linear_taps<T>(w, wo);
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (dy.numel() > cpu::kParallelGrain)
    for (int64_t q = 0; q < planes; ++q) {
      const T* src = pdy + q * ho * wo;
      T* dst = pdx + q * h * w;
      for (int64_t k = 0; k < h * w; ++k) dst[k] = T(0);
      // Each dy element spread over its four taps, in ATen's order.
      for (int64_t i = 0; i < ho; ++i) {
        const resample::LinearTap<T>& a = ty[static_cast<size_t>(i)];
        T* r0 = dst + a.i0 * w;
        T* r1 = dst + a.i1 * w;
        for (int64_t j = 0; j < wo; ++j) {
          const resample::LinearTap<T>& b = tx[static_cast<size_t>(j)];
          const T g = src[i * wo + j];
          r0[b.i0] += a.l0 * b.l0 * g;
          r0[b.i1] += a.l0 * b.l1 * g;
          r1[b.i0] += a.l1 * b.l0 * g;
          r1[b.i1] += a.l1 * b.l1 * g;
        }
      }
    }
  });
}

}  // namespace s2dm
