// CPU random fills and dropout from the Philox stream in kernels/philox.h.
#include <algorithm>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"
#include "kernels/philox.h"

namespace s2dm {

// Each loop runs over Philox counters, one per four elements (kernels/philox.h's layout), so
// every counter is computed once rather than once per element.
namespace {

// f(i, words) for each counter of a draw of n values, i = its first element.
template <typename F>
void for_each_counter(int64_t n, uint64_t seed, uint64_t offset, F f) {
  const int64_t counters = static_cast<int64_t>(philox::counters_for(static_cast<uint64_t>(n)));
#pragma omp parallel for if (n > cpu::kParallelGrain)
  for (int64_t c = 0; c < counters; ++c)
    f(4 * c, philox::philox4x32_10(offset + static_cast<uint64_t>(c), seed));
}

template <typename T>
void dropout_apply(const T* in, T* out, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const float pf = static_cast<float>(p);
  for_each_counter(n, seed, offset, [&](int64_t i0, const philox::Words& r) {
    const int m = static_cast<int>(std::min<int64_t>(4, n - i0));
    for (int j = 0; j < m; ++j)
      out[i0 + j] = philox::to_uniform(r.w[j]) >= pf ? in[i0 + j] * scale : T(0);
  });
}

}  // namespace

void CpuBackend::fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = out.data<T>();
    for_each_counter(n, seed, offset, [&](int64_t i0, const philox::Words& r) {
      const int m = static_cast<int>(std::min<int64_t>(4, n - i0));
      for (int j = 0; j < m; ++j)
        p[i0 + j] = static_cast<T>(lo + (hi - lo) * static_cast<double>(philox::to_uniform(r.w[j])));
    });
  });
}

void CpuBackend::fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                             double stddev) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = out.data<T>();
    for_each_counter(n, seed, offset, [&](int64_t i0, const philox::Words& r) {
      const philox::Normals z = philox::normals(r);
      const int m = static_cast<int>(std::min<int64_t>(4, n - i0));
      for (int j = 0; j < m; ++j)
        p[i0 + j] = static_cast<T>(mean + stddev * static_cast<double>(z.v[j]));
    });
  });
}

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
