// CPU optimizer updates over flat buffers: Adam (PyTorch semantics) and parameter EMA.
#include <cmath>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"

namespace s2dm {

// Matches torch.optim.Adam (amsgrad=False, L2 weight decay added to the gradient):
//   g = grad*scale + wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²
//   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
void CpuBackend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                           const AdamParams& a) {
  const int64_t n = param.numel();
  const double bc1 = 1.0 - std::pow(a.beta1, static_cast<double>(a.step));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(a.beta2, static_cast<double>(a.step)));
  cpu::dispatch_float(param.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const T b1 = static_cast<T>(a.beta1), b2 = static_cast<T>(a.beta2);
    const T step_size = static_cast<T>(a.lr / bc1), bc2s = static_cast<T>(bc2_sqrt);
    const T eps = static_cast<T>(a.eps), wd = static_cast<T>(a.weight_decay);
    const T scale = static_cast<T>(a.grad_scale);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      T gi = g[i] * scale;
      if (wd != T(0)) gi += wd * p[i];
      pm[i] = b1 * pm[i] + (T(1) - b1) * gi;
      pv[i] = b2 * pv[i] + (T(1) - b2) * gi * gi;
      p[i] -= step_size * pm[i] / (std::sqrt(pv[i]) / bc2s + eps);
    }
  });
}

void CpuBackend::ema_update(Tensor& ema, const Tensor& param, double decay) {
  const int64_t n = ema.numel();
  cpu::dispatch_float(ema.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* e = ema.data<T>();
    const T* p = param.data<T>();
    const T d = static_cast<T>(decay), one_minus = static_cast<T>(1.0 - decay);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) e[i] = d * e[i] + one_minus * p[i];
  });
}

}  // namespace s2dm
