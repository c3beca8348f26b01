// CPU random fills and dropout from the Philox stream in kernels/philox.h.
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"
#include "kernels/philox.h"

namespace s2dm {

void CpuBackend::fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = out.data<T>();
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<T>(lo + (hi - lo) * static_cast<double>(
                                                 philox::uniform_at(seed, offset, static_cast<uint64_t>(i))));
  });
}

void CpuBackend::fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                             double stddev) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = out.data<T>();
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<T>(mean + stddev * static_cast<double>(
                                                philox::normal_at(seed, offset, static_cast<uint64_t>(i))));
  });
}

namespace {
template <typename T>
void dropout_apply(const T* in, T* out, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const float pf = static_cast<float>(p);
#pragma omp parallel for if (n > cpu::kParallelGrain)
  for (int64_t i = 0; i < n; ++i)
    out[i] = philox::uniform_at(seed, offset, static_cast<uint64_t>(i)) >= pf ? in[i] * scale : T(0);
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
