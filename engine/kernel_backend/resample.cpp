// KernelBackend: nearest 2x upsampling, constant 2-D padding and bilinear resizing on
// kernels/resample.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/resample.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

kernels::PlaneShape planes_of(std::string_view op, const Tensor& t) {
  S2DM_CHECK(t.dim() == 4, "{}: expected a 4-D [N,C,H,W] tensor, got {}", op, t.str());
  return {t.size(0) * t.size(1), t.size(2), t.size(3)};
}

// Checks big against small's [N, C] with the given spatial size.
void require_spatial(std::string_view op, const Tensor& small, const Tensor& big, int64_t h,
                     int64_t w) {
  S2DM_CHECK(
      big.shape() == (Shape{small.size(0), small.size(1), h, w}) && big.dtype() == small.dtype(),
      "{}: {} does not match {}", op, big.str(), small.str());
}

kernels::Pad2d pads_of(std::string_view op, const Pad2dParams& p) {
  S2DM_CHECK(p.left >= 0 && p.right >= 0 && p.top >= 0 && p.bottom >= 0,
             "{}: pads must be non-negative, got ({}, {}, {}, {})", op, p.left, p.right, p.top,
             p.bottom);
  return {p.left, p.right, p.top, p.bottom};
}

}  // namespace

void KernelBackend::upsample_nearest2x_forward(const Tensor& x, Tensor& y) {
  constexpr std::string_view op = "upsample_nearest2x_forward";
  require_contiguous(op, {&x, &y});
  const kernels::PlaneShape shape = planes_of(op, x);
  require_spatial(op, x, y, 2 * shape.h, 2 * shape.w);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_upsample_nearest2x_forward<T>(x.data<T>(), shape, y.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::upsample_nearest2x_backward(const Tensor& dy, Tensor& dx) {
  constexpr std::string_view op = "upsample_nearest2x_backward";
  require_contiguous(op, {&dy, &dx});
  const kernels::PlaneShape shape = planes_of(op, dx);
  require_spatial(op, dx, dy, 2 * shape.h, 2 * shape.w);
  cudaStream_t s = begin();
  cpu::dispatch_float(dx.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_upsample_nearest2x_backward<T>(dy.data<T>(), shape, dx.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::pad2d_forward(const Tensor& x, Pad2dParams p, Tensor& y) {
  constexpr std::string_view op = "pad2d_forward";
  require_contiguous(op, {&x, &y});
  const kernels::PlaneShape shape = planes_of(op, x);
  const kernels::Pad2d pad = pads_of(op, p);
  require_spatial(op, x, y, shape.h + pad.top + pad.bottom, shape.w + pad.left + pad.right);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_pad2d_forward<T>(x.data<T>(), shape, pad, static_cast<T>(p.value),
                                     y.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::pad2d_backward(const Tensor& dy, Pad2dParams p, Tensor& dx) {
  constexpr std::string_view op = "pad2d_backward";
  require_contiguous(op, {&dy, &dx});
  const kernels::PlaneShape shape = planes_of(op, dx);
  const kernels::Pad2d pad = pads_of(op, p);
  require_spatial(op, dx, dy, shape.h + pad.top + pad.bottom, shape.w + pad.left + pad.right);
  cudaStream_t s = begin();
  cpu::dispatch_float(dx.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_pad2d_backward<T>(dy.data<T>(), shape, pad, dx.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::upsample_bilinear2d_forward(const Tensor& x, Tensor& y) {
  constexpr std::string_view op = "upsample_bilinear2d_forward";
  require_contiguous(op, {&x, &y});
  const kernels::PlaneShape shape = planes_of(op, x);
  S2DM_CHECK(y.dim() == 4 && y.size(2) > 0 && y.size(3) > 0 && shape.h > 0 && shape.w > 0,
             "{}: input {} and output {} need non-empty planes", op, x.str(), y.str());
  require_spatial(op, x, y, y.size(2), y.size(3));
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_upsample_bilinear2d_forward<T>(x.data<T>(), shape, y.size(2), y.size(3),
                                                   y.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::upsample_bilinear2d_backward(const Tensor& dy, Tensor& dx) {
  constexpr std::string_view op = "upsample_bilinear2d_backward";
  require_contiguous(op, {&dy, &dx});
  const kernels::PlaneShape shape = planes_of(op, dx);
  S2DM_CHECK(dy.dim() == 4 && dy.size(2) > 0 && dy.size(3) > 0 && shape.h > 0 && shape.w > 0,
             "{}: gradient {} and input {} need non-empty planes", op, dy.str(), dx.str());
  require_spatial(op, dx, dy, dy.size(2), dy.size(3));
  cudaStream_t s = begin();
  cpu::dispatch_float(dx.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_upsample_bilinear2d_backward<T>(dy.data<T>(), shape, dy.size(2), dy.size(3),
                                                    dx.data<T>(), s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
