// CPU random fills from the Philox stream in kernels/philox.h.
#include <algorithm>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/philox_counters.h"
#include "engine/cpu/strided.h"
#include "kernels/philox.h"

namespace s2dm {

void CpuBackend::fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = out.data<T>();
    cpu::for_each_counter(n, seed, offset, [&](int64_t i0, const philox::Words& r) {
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
    cpu::for_each_counter(n, seed, offset, [&](int64_t i0, const philox::Words& r) {
      const philox::Normals z = philox::normals(r);
      const int m = static_cast<int>(std::min<int64_t>(4, n - i0));
      for (int j = 0; j < m; ++j)
        p[i0 + j] = static_cast<T>(mean + stddev * static_cast<double>(z.v[j]));
    });
  });
}

}  // namespace s2dm
