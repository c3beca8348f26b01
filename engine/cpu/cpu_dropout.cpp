// CPU dropout: the Philox mask of kernels/philox.h, regenerated from (seed, offset) in backward.
#include <algorithm>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/philox_counters.h"

namespace s2dm {

namespace {

template <typename T>
void dropout_apply(const T* in, T* out, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const float pf = static_cast<float>(p);
  cpu::for_each_counter(n, seed, offset, [&](int64_t i0, const philox::Words& r) {
    const int m = static_cast<int>(std::min<int64_t>(4, n - i0));
    for (int j = 0; j < m; ++j)
      out[i0 + j] = philox::to_uniform(r.w[j]) >= pf ? in[i0 + j] * scale : T(0);
  });
}

}  // namespace

void CpuBackend::dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset,
                                 Tensor& y) {
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    dropout_apply(x.data<T>(), y.data<T>(), x.numel(), p, seed, offset);
  });
}

// The mask is regenerated from (seed, offset) rather than stored.
void CpuBackend::dropout_backward(const Tensor& dy, double p, uint64_t seed, uint64_t offset,
                                  Tensor& dx) {
  cpu::dispatch_float(dy.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    dropout_apply(dy.data<T>(), dx.data<T>(), dy.numel(), p, seed, offset);
  });
}

}  // namespace s2dm
