// KernelBackend: max_pool2d and avg_pool2d on kernels/pool.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "engine/pool_geometry.h"
#include "kernels/pool.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

void KernelBackend::max_pool2d_forward(const Tensor& x, Pool2dParams p, Tensor& y) {
  constexpr std::string_view op = "max_pool2d_forward";
  require_contiguous(op, {&x, &y});
  const pool::Geometry g = pool_geometry(op, x, y, p);
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
  const pool::Geometry g = pool_geometry(op, x, dy, p);
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
  const pool::Geometry g = pool_geometry(op, x, y, p);
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
  const pool::Geometry g = pool_geometry(op, dx, dy, p);
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
