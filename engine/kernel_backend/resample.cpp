// KernelBackend: nearest 2x upsampling and constant 2-D padding on kernels/resample.cu.
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

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
