// KernelBackend: max_pool2d and avg_pool2d on kernels/pool.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/pool.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

// Checks in (input-sized) against out (output-sized) and the parameters; the plane geometry.
pool::Geometry geometry_of(std::string_view op, const Tensor& in, const Tensor& out,
                           const Pool2dParams& p) {
  S2DM_CHECK(in.dim() == 4, "{}: expected a 4-D [N,C,H,W] tensor, got {}", op, in.str());
  S2DM_CHECK(p.kh >= 1 && p.kw >= 1 && p.stride_h >= 1 && p.stride_w >= 1 && p.pad_h >= 0 &&
                 p.pad_w >= 0 && 2 * p.pad_h <= p.kh && 2 * p.pad_w <= p.kw,
             "{}: bad window {}x{} stride ({}, {}) padding ({}, {})", op, p.kh, p.kw, p.stride_h,
             p.stride_w, p.pad_h, p.pad_w);
  pool::Geometry g;
  g.h = in.size(2), g.w = in.size(3);
  g.kh = p.kh, g.kw = p.kw, g.sh = p.stride_h, g.sw = p.stride_w, g.ph = p.pad_h, g.pw = p.pad_w;
  g.count_include_pad = p.count_include_pad;
  g.ho = pool::pooled_size(g.h, g.kh, g.sh, g.ph);
  g.wo = pool::pooled_size(g.w, g.kw, g.sw, g.pw);
  S2DM_CHECK(g.ho >= 1 && g.wo >= 1 &&
                 out.shape() == Shape({in.size(0), in.size(1), g.ho, g.wo}) &&
                 out.dtype() == in.dtype(),
             "{}: {} does not match input {} pooled by {}x{} stride ({}, {}) padding ({}, {})", op,
             out.str(), in.str(), p.kh, p.kw, p.stride_h, p.stride_w, p.pad_h, p.pad_w);
  return g;
}

}  // namespace

void KernelBackend::max_pool2d_forward(const Tensor& x, Pool2dParams p, Tensor& y) {
  constexpr std::string_view op = "max_pool2d_forward";
  require_contiguous(op, {&x, &y});
  const pool::Geometry g = geometry_of(op, x, y, p);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_max_pool2d_forward<T>(x.data<T>(), x.size(0) * x.size(1), g, y.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::max_pool2d_backward(const Tensor& x, const Tensor& dy, Pool2dParams p,
                                        Tensor& dx) {
  constexpr std::string_view op = "max_pool2d_backward";
  require_contiguous(op, {&x, &dy, &dx});
  const pool::Geometry g = geometry_of(op, x, dy, p);
  S2DM_CHECK(dx.shape() == x.shape() && dx.dtype() == x.dtype(), "{}: gradient {} for input {}",
             op, dx.str(), x.str());
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_max_pool2d_backward<T>(x.data<T>(), dy.data<T>(), x.size(0) * x.size(1), g,
                                           dx.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::avg_pool2d_forward(const Tensor& x, Pool2dParams p, Tensor& y) {
  constexpr std::string_view op = "avg_pool2d_forward";
  require_contiguous(op, {&x, &y});
  const pool::Geometry g = geometry_of(op, x, y, p);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_avg_pool2d_forward<T>(x.data<T>(), x.size(0) * x.size(1), g, y.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::avg_pool2d_backward(const Tensor& dy, Pool2dParams p, Tensor& dx) {
  constexpr std::string_view op = "avg_pool2d_backward";
  require_contiguous(op, {&dy, &dx});
  const pool::Geometry g = geometry_of(op, dx, dy, p);
  cudaStream_t s = begin();
  cpu::dispatch_float(dx.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_avg_pool2d_backward<T>(dy.data<T>(), dx.size(0) * dx.size(1), g,
                                           dx.data<T>(), s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
