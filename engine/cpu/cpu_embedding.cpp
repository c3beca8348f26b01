// CPU sinusoidal timestep embedding, forward and backward.
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"

namespace s2dm {

namespace {

// The timestep-embedding frequencies f_i = exp(-ln(10000) i / (half-1)). float32 computes the
// scale and the exponent in float32 as the PyTorch reference does, so the embedding of a large t
// (where one ulp of f moves t·f noticeably) agrees with checkpoints trained against it.
template <typename T>
std::vector<T> embedding_frequencies(int64_t half) {
  const T scale = static_cast<T>(std::log(10000.0) / static_cast<double>(half - 1));
  std::vector<T> f(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    f[static_cast<size_t>(i)] = std::exp(static_cast<T>(i) * -scale);
  return f;
}

void check_embedding_dim(const Tensor& t, int64_t dim) {
  S2DM_CHECK(t.dim() == 1, "timestep_embedding: t must be 1-D, got {}", t.str());
  S2DM_CHECK(dim >= 4, "timestep_embedding: dim must be at least 4, got {}", dim);
}

}  // namespace

void CpuBackend::timestep_embedding_forward(const Tensor& t, int64_t dim, Tensor& emb) {
  check_embedding_dim(t, dim);
  const int64_t n = t.size(0), half = dim / 2;
  S2DM_CHECK(emb.shape() == (Shape{n, dim}), "timestep_embedding: output {} should be [{}, {}]",
             emb.str(), n, dim);
  cpu::dispatch_float(t.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const std::vector<T> f = embedding_frequencies<T>(half);
    const T* pt = t.data<T>();
    T* pe = emb.data<T>();
#pragma omp parallel for schedule(static) if (n * dim > cpu::kParallelGrain)
    for (int64_t r = 0; r < n; ++r) {
      T* row = pe + r * dim;
      for (int64_t i = 0; i < half; ++i) {
        // The product is rounded to T before sin/cos, as in the reference.
        const T arg = pt[r] * f[static_cast<size_t>(i)];
        row[i] = std::sin(arg);
        row[half + i] = std::cos(arg);
      }
      if (dim % 2 == 1) row[dim - 1] = T(0);
    }
  });
}

void CpuBackend::timestep_embedding_backward(const Tensor& t, int64_t dim, const Tensor& demb,
                                             Tensor& dt) {
  check_embedding_dim(t, dim);
  const int64_t n = t.size(0), half = dim / 2;
  S2DM_CHECK(demb.shape() == (Shape{n, dim}),
             "timestep_embedding backward: gradient {} should be [{}, {}]", demb.str(), n, dim);
  S2DM_CHECK(dt.shape() == t.shape(), "timestep_embedding backward: dt {} does not match t {}",
             dt.str(), t.str());
  cpu::dispatch_float(t.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const std::vector<T> f = embedding_frequencies<T>(half);
    const T* pt = t.data<T>();
    const T* pg = demb.data<T>();
    T* pdt = dt.data<T>();
#pragma omp parallel for schedule(static) if (n * dim > cpu::kParallelGrain)
    for (int64_t r = 0; r < n; ++r) {
      const T* g = pg + r * dim;
      double acc = 0;  // the terms alternate in sign; a double sum keeps float32 honest
      for (int64_t i = 0; i < half; ++i) {
        const T fi = f[static_cast<size_t>(i)];
        const T arg = pt[r] * fi;
        acc += static_cast<double>(fi) * (static_cast<double>(g[i]) * std::cos(arg) -
                                          static_cast<double>(g[half + i]) * std::sin(arg));
      }
      pdt[r] = static_cast<T>(acc);
    }
  });
}

}  // namespace s2dm
