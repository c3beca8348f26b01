// KernelBackend: Adam, parameter EMA and the fused Adam + EMA step on kernels/optim.cu.
#include <initializer_list>
#include <string_view>

#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/optim.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

void require_same_shape(std::string_view op, const Tensor& ref,
                        std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    S2DM_CHECK(t->shape() == ref.shape() && t->dtype() == ref.dtype(),
               "{}: {} does not match the parameters {}", op, t->str(), ref.str());
}

// The squared-norm scalar the kernels read, or null when the step is not clipped by one.
const double* grad_sq_data(std::string_view op, const Tensor& grad_sq, Device device) {
  if (!grad_sq.defined()) return nullptr;
  S2DM_CHECK(grad_sq.numel() == 1 && grad_sq.dtype() == DType::F64 &&
                 grad_sq.device() == device && grad_sq.is_contiguous(),
             "{}: grad_sq must be one float64 element on {}, got {}", op, device.str(),
             grad_sq.str());
  return grad_sq.data<double>();
}

}  // namespace

void KernelBackend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                              const Tensor& grad_sq, const AdamParams& p) {
  require_contiguous("adam_step", {&param, &grad, &m, &v});
  require_same_shape("adam_step", param, {&grad, &m, &v});
  const double* sq = grad_sq_data("adam_step", grad_sq, device());
  cudaStream_t s = begin();
  cpu::dispatch_float(param.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_adam_step<T>(param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(),
                                 param.numel(), adam::coefficients<T>(p, sq), s);
  });
  check_launch();
}

void KernelBackend::ema_update(Tensor& ema, const Tensor& param, double decay) {
  require_contiguous("ema_update", {&ema, &param});
  require_same_shape("ema_update", param, {&ema});
  cudaStream_t s = begin();
  cpu::dispatch_float(param.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_ema_update<T>(ema.data<T>(), param.data<T>(), param.numel(),
                                  static_cast<T>(decay), static_cast<T>(1.0 - decay), s);
  });
  check_launch();
}

void KernelBackend::adam_ema_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                                  Tensor& ema, const Tensor& grad_sq, const AdamParams& p,
                                  double ema_decay) {
  require_contiguous("adam_ema_step", {&param, &grad, &m, &v, &ema});
  require_same_shape("adam_ema_step", param, {&grad, &m, &v, &ema});
  const double* sq = grad_sq_data("adam_ema_step", grad_sq, device());
  cudaStream_t s = begin();
  cpu::dispatch_float(param.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_adam_ema_step<T>(param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(),
                                     ema.data<T>(), param.numel(), adam::coefficients<T>(p, sq),
                                     static_cast<T>(ema_decay), static_cast<T>(1.0 - ema_decay), s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
