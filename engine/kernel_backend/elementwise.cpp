// KernelBackend: unary, clamp, binary, scalar and axpy on kernels/elementwise.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/elementwise.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

void require_same_numel(std::string_view op, const Tensor& a, const Tensor& b) {
  S2DM_CHECK(a.numel() == b.numel(), "{}: {} and {} differ in size", op, a.str(), b.str());
}

}  // namespace

void KernelBackend::unary(UnaryOp op, const Tensor& x, Tensor& y) {
  require_contiguous("unary", {&x, &y});
  require_same_numel("unary", x, y);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_unary<T>(op, x.data<T>(), y.data<T>(), x.numel(), s);
  });
  check_launch();
}

void KernelBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) {
  require_contiguous("unary_backward", {&x, &dy, &dx});
  require_same_numel("unary_backward", x, dy);
  require_same_numel("unary_backward", x, dx);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_unary_backward<T>(op, x.data<T>(), dy.data<T>(), dx.data<T>(),
                                      x.numel(), s);
  });
  check_launch();
}

void KernelBackend::clamp(const Tensor& x, double lo, double hi, Tensor& y) {
  require_contiguous("clamp", {&x, &y});
  require_same_numel("clamp", x, y);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_clamp<T>(x.data<T>(), static_cast<T>(lo), static_cast<T>(hi), y.data<T>(),
                             x.numel(), s);
  });
  check_launch();
}

void KernelBackend::clamp_backward(const Tensor& x, double lo, double hi, const Tensor& dy,
                                   Tensor& dx) {
  require_contiguous("clamp_backward", {&x, &dy, &dx});
  require_same_numel("clamp_backward", x, dy);
  require_same_numel("clamp_backward", x, dx);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_clamp_backward<T>(x.data<T>(), static_cast<T>(lo), static_cast<T>(hi),
                                      dy.data<T>(), dx.data<T>(), x.numel(), s);
  });
  check_launch();
}

void KernelBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  for (const Tensor* t : std::initializer_list<const Tensor*>{&a, &b, &out}) {
    S2DM_CHECK(t->defined() && t->device() == device(), "binary: every tensor must be on {}",
               device().str());
    S2DM_CHECK(t->shape() == out.shape(), "binary: {} does not have the output's shape {}",
               t->str(), shape_str(out.shape()));
  }
  kernels::StridedLayout<3> layout;
  S2DM_CHECK(kernels::make_strided_layout<3>(out.shape(), {&a.strides(), &b.strides(),
                                                           &out.strides()}, layout),
             "binary: {} has more than {} dims that do not merge", out.str(),
             kernels::kMaxStridedRank);
  cudaStream_t s = begin();
  cpu::dispatch_float(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_binary<T>(op, a.data<T>(), b.data<T>(), out.data<T>(), layout,
                              s);
  });
  check_launch();
}

void KernelBackend::scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) {
  require_contiguous("scalar", {&x, &y});
  require_same_numel("scalar", x, y);
  cudaStream_t stream = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_scalar<T>(op, x.data<T>(), static_cast<T>(s), y.data<T>(),
                              x.numel(), stream);
  });
  check_launch();
}

void KernelBackend::axpy(Tensor& y, double alpha, const Tensor& x) {
  require_contiguous("axpy", {&y, &x});
  require_same_numel("axpy", x, y);
  cudaStream_t s = begin();
  cpu::dispatch_float(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_axpy<T>(y.data<T>(), static_cast<T>(alpha), x.data<T>(), y.numel(), s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
