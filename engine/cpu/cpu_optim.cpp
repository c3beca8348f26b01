// CPU optimizer updates over flat buffers: Adam (PyTorch semantics), parameter EMA, and the two
// fused. The per-element arithmetic is kernels/adam_math.h, shared with the CUDA kernels.
#include <type_traits>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"
#include "engine/error.h"
#include "kernels/adam_math.h"

namespace s2dm {

namespace {

// Adam over the flat buffers and, when ema is defined, the EMA of the updated values in the same
// pass (adam_ema_step equals adam_step then ema_update exactly: the same expressions per element).
void adam_pass(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, Tensor& ema,
               const Tensor& grad_sq, const AdamParams& a, double ema_decay) {
  const int64_t n = param.numel();
  if (grad_sq.defined())
    S2DM_CHECK(grad_sq.numel() == 1 && grad_sq.dtype() == DType::F64 && grad_sq.is_contiguous(),
               "adam_step: grad_sq must be one float64 element, got {}", grad_sq.str());
  cpu::dispatch_float(param.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    adam::Coefficients<T> c =
        adam::coefficients<T>(a, grad_sq.defined() ? grad_sq.data<double>() : nullptr);
    if (!adam::resolve_clip(c)) return;  // a norm that is not finite: nothing changes
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    T* e = ema.defined() ? ema.data<T>() : nullptr;
    const T d = static_cast<T>(ema_decay), one_minus = static_cast<T>(1.0 - ema_decay);
#pragma omp parallel if (n > cpu::kParallelGrain)
    {
      // Each thread's own copy of the coefficients, and loops without the weight-decay and EMA
      // tests: read through the shared copy, the coefficients might change with every store to
      // p, m or v as far as the compiler knows, so it kept the tests in the loop and left it
      // scalar.
      const adam::Coefficients<T> cl = c;
      auto pass = [&](auto decay, auto with_ema) {
#pragma omp for
        for (int64_t i = 0; i < n; ++i) {
          adam::update<decltype(decay)::value>(cl, p[i], g[i], pm[i], pv[i]);
          if constexpr (decltype(with_ema)::value) e[i] = adam::ema(e[i], p[i], d, one_minus);
        }
      };
      const bool decay = cl.weight_decay != T(0);
      if (e != nullptr) {
        if (decay) pass(std::true_type{}, std::true_type{});
        else pass(std::false_type{}, std::true_type{});
      } else {
        if (decay) pass(std::true_type{}, std::false_type{});
        else pass(std::false_type{}, std::false_type{});
      }
    }
  });
}

}  // namespace

void CpuBackend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                           const Tensor& grad_sq, const AdamParams& a) {
  Tensor no_ema;
  adam_pass(param, grad, m, v, no_ema, grad_sq, a, 0.0);
}

void CpuBackend::ema_update(Tensor& ema, const Tensor& param, double decay) {
  const int64_t n = ema.numel();
  cpu::dispatch_float(ema.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* e = ema.data<T>();
    const T* p = param.data<T>();
    const T d = static_cast<T>(decay), one_minus = static_cast<T>(1.0 - decay);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) e[i] = adam::ema(e[i], p[i], d, one_minus);
  });
}

void CpuBackend::adam_ema_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, Tensor& ema,
                               const Tensor& grad_sq, const AdamParams& a, double ema_decay) {
  adam_pass(param, grad, m, v, ema, grad_sq, a, ema_decay);
}

}  // namespace s2dm
