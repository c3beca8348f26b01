// KernelBackend: GroupNorm(+SiLU) forward and backward on kernels/norm.cu.
#include "engine/cpu/dispatch.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/norm.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {
kernels::GroupNormShape gn_shape(const Tensor& x, int groups) {
  const int64_t n = x.size(0), c = x.size(1);
  return {n, c, n * c == 0 ? 1 : x.numel() / (n * c), groups};
}
template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <typename T>
T* out_or_null(Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
}  // namespace

void KernelBackend::group_norm_forward(const Tensor& x, const Tensor& channel_add,
                                       const Tensor& gamma, const Tensor& beta, int groups,
                                       double eps, bool silu, Tensor& y, Tensor& mean,
                                       Tensor& rstd) {
  require_contiguous("group_norm_forward", {&x, &y, &mean, &rstd});
  require_contiguous_if_defined("group_norm_forward", {&channel_add, &gamma, &beta});
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_group_norm_forward<T>(x.data<T>(), data_or_null<T>(channel_add),
                                          data_or_null<T>(gamma), data_or_null<T>(beta),
                                          gn_shape(x, groups), eps, silu, y.data<T>(),
                                          mean.data<T>(), rstd.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::group_norm_backward(const Tensor& x, const Tensor& channel_add,
                                        const Tensor& gamma, const Tensor& beta,
                                        const Tensor& mean, const Tensor& rstd, const Tensor& dy,
                                        int groups, bool silu, Tensor& dx, Tensor& dgamma,
                                        Tensor& dbeta) {
  require_contiguous("group_norm_backward", {&x, &mean, &rstd, &dy});
  require_contiguous_if_defined("group_norm_backward",
                                {&channel_add, &gamma, &beta, &dx, &dgamma, &dbeta});
  const kernels::GroupNormShape shape = gn_shape(x, groups);
  Tensor work;
  if (dgamma.defined() || dbeta.defined())
    work = Tensor::empty({kernels::group_norm_backward_workspace(shape)}, x.dtype(), device());
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_group_norm_backward<T>(
        x.data<T>(), data_or_null<T>(channel_add), data_or_null<T>(gamma), data_or_null<T>(beta), mean.data<T>(),
        rstd.data<T>(), dy.data<T>(), shape, silu, out_or_null<T>(dx), out_or_null<T>(dgamma),
        out_or_null<T>(dbeta), out_or_null<T>(work), s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
