// CPU single-head attention, forward and backward, on OpenBLAS GEMMs.
//
// Scores are materialised for one block of query rows of one batch entry at a time (at most
// kScoreElems per block), so scratch memory stays bounded for long sequences while the UNet's
// shapes (N = M <= 256) run as one block per batch entry with full-size GEMMs. Forward writes o
// and lse. Backward recomputes the probabilities from q, k and lse (nothing [B,N,M]-sized lives
// between the two) and writes each of dq, dk, dv that is defined, overwriting it fully: dk and dv
// are accumulated over query blocks, starting from β = 0 on the first block.
// Threads: batch entries are independent, so with several entries each thread takes whole
// entries and runs its GEMMs on one core (OpenBLAS's OpenMP build does not nest inside a parallel
// region), softmax included: one parallel region per call. The UNet's GEMMs (64-256 tokens) are
// too small for OpenBLAS to split well, and the row-wise softmax would stay on one thread.
// A single entry keeps the old way: OpenBLAS's threads inside each GEMM, softmax on the caller.
#include <algorithm>
#include <cblas.h>
#include <cmath>
#include <omp.h>
#include <type_traits>
#include <vector>

#include "engine/attention_transposed.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/softmax_row.h"

namespace s2dm {

namespace {

// Scores per block; 2^17 elements keeps each scratch buffer within 1 MiB in float64.
constexpr int64_t kScoreElems = int64_t{1} << 17;

struct AttnDims {
  int64_t b = 0, n = 0, m = 0, c = 0, d = 0;
  int64_t block_rows() const { return std::clamp<int64_t>(kScoreElems / m, 1, n); }
};

AttnDims attn_dims(const Tensor& q, const Tensor& k, const Tensor& v) {
  S2DM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && k.size(0) == q.size(0) &&
                 v.size(0) == q.size(0) && k.size(2) == q.size(2) && v.size(1) == k.size(1),
             "attention: inconsistent shapes q {} k {} v {}", q.str(), k.str(), v.str());
  return {q.size(0), q.size(1), k.size(1), q.size(2), v.size(2)};
}

// Row-major C = alpha · op(A) op(B) + beta · C. Leading dimensions are raised to 1 because BLAS
// rejects 0 even when the matching extent is empty.
template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  lda = std::max<int64_t>(lda, 1);
  ldb = std::max<int64_t>(ldb, 1);
  ldc = std::max<int64_t>(ldc, 1);
  const CBLAS_TRANSPOSE cta = ta ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE ctb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, cta, ctb, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, cta, ctb, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
  }
}

template <typename T>
void attn_forward(const T* q, const T* k, const T* v, const AttnDims& dm, T scale, T* o, T* lse) {
  if (dm.n == 0) return;
  const int64_t rb = dm.block_rows(), m = dm.m;
#pragma omp parallel if (dm.b > 1 && omp_get_max_threads() > 1)
  {
    std::vector<T> s(static_cast<size_t>(rb * m));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < dm.b; ++b) {
      const T* kb = k + b * m * dm.c;
      const T* vb = v + b * m * dm.d;
      for (int64_t r0 = 0; r0 < dm.n; r0 += rb) {
        const int64_t rows = std::min(rb, dm.n - r0), row = b * dm.n + r0;
        gemm<T>(false, true, rows, m, dm.c, scale, q + row * dm.c, dm.c, kb, dm.c, T(0), s.data(),
                m);
        for (int64_t i = 0; i < rows; ++i) {
          T* si = s.data() + i * m;
          lse[row + i] = static_cast<T>(cpu::softmax_row(si, si, m));
        }
        gemm<T>(false, false, rows, dm.d, m, T(1), s.data(), m, vb, dm.d, T(0), o + row * dm.d,
                dm.d);
      }
    }
  }
}

// P = exp(scale·q kᵀ − lse); dv = Pᵀ dO; dP = dO vᵀ; dS = P ⊙ (dP − rowsum(dO ⊙ O));
// dq = scale·dS k; dk = scale·dSᵀ q.
template <typename T>
void attn_backward(const T* q, const T* k, const T* v, const T* o, const T* lse, const T* d_o,
                   const AttnDims& dm, T scale, T* dq, T* dk, T* dv) {
  if (dm.n == 0) {  // no queries: dk and dv are zero, still fully written
    if (dk) std::fill(dk, dk + dm.b * dm.m * dm.c, T(0));
    if (dv) std::fill(dv, dv + dm.b * dm.m * dm.d, T(0));
    return;
  }
  const int64_t rb = dm.block_rows(), m = dm.m;
  const bool want_ds = dq != nullptr || dk != nullptr;
#pragma omp parallel if (dm.b > 1 && omp_get_max_threads() > 1)
  {
    std::vector<T> p(static_cast<size_t>(rb * m));
    std::vector<T> ds(want_ds ? p.size() : 0);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < dm.b; ++b) {
      const T* kb = k + b * m * dm.c;
      const T* vb = v + b * m * dm.d;
      for (int64_t r0 = 0; r0 < dm.n; r0 += rb) {
        const int64_t rows = std::min(rb, dm.n - r0), row = b * dm.n + r0;
        const T* qr = q + row * dm.c;
        const T* d_or = d_o + row * dm.d;
        const T acc = r0 == 0 ? T(0) : T(1);  // dk, dv: overwrite on the first block, then add
        gemm<T>(false, true, rows, m, dm.c, scale, qr, dm.c, kb, dm.c, T(0), p.data(), m);
        for (int64_t i = 0; i < rows; ++i) {
          T* pi = p.data() + i * m;
          const T l = lse[row + i];
          for (int64_t j = 0; j < m; ++j) pi[j] = std::exp(pi[j] - l);
        }
        if (dv) {
          gemm<T>(true, false, m, dm.d, rows, T(1), p.data(), m, d_or, dm.d, acc, dv + b * m * dm.d,
                  dm.d);
        }
        if (!want_ds) continue;
        gemm<T>(false, true, rows, m, dm.d, T(1), d_or, dm.d, vb, dm.d, T(0), ds.data(), m);
        for (int64_t i = 0; i < rows; ++i) {
          const T* oi = o + (row + i) * dm.d;
          const T* d_oi = d_or + i * dm.d;
          double delta = 0;
          for (int64_t j = 0; j < dm.d; ++j)
            delta += static_cast<double>(d_oi[j]) * static_cast<double>(oi[j]);
          const T delta_t = static_cast<T>(delta);
          const T* pi = p.data() + i * m;
          T* dsi = ds.data() + i * m;
          for (int64_t j = 0; j < m; ++j) dsi[j] = pi[j] * (dsi[j] - delta_t);
        }
        if (dq) {
          gemm<T>(false, false, rows, dm.c, m, scale, ds.data(), m, kb, dm.c, T(0), dq + row * dm.c,
                  dm.c);
        }
        if (dk) {
          gemm<T>(true, false, m, dm.c, rows, scale, ds.data(), m, qr, dm.c, acc, dk + b * m * dm.c,
                  dm.c);
        }
      }
    }
  }
}

template <typename T>
T* mut_ptr_or_null(Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void CpuBackend::attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                                   Tensor& o, Tensor& lse) {
  const AttnDims dm = attn_dims(q, k, v);
  S2DM_CHECK(dm.m > 0 || dm.n == 0, "attention: {} queries but no keys", dm.n);
  cpu::dispatch_float(q.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    attn_forward<T>(q.data<T>(), k.data<T>(), v.data<T>(), dm, static_cast<T>(scale),
                    o.data<T>(), lse.data<T>());
  });
}

void CpuBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& o, const Tensor& lse, const Tensor& d_o,
                                    double scale, Tensor& dq, Tensor& dk, Tensor& dv) {
  const AttnDims dm = attn_dims(q, k, v);
  S2DM_CHECK(dm.m > 0 || dm.n == 0, "attention: {} queries but no keys", dm.n);
  cpu::dispatch_float(q.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    attn_backward<T>(q.data<T>(), k.data<T>(), v.data<T>(), o.data<T>(), lse.data<T>(),
                     d_o.data<T>(), dm, static_cast<T>(scale), mut_ptr_or_null<T>(dq),
                     mut_ptr_or_null<T>(dk), mut_ptr_or_null<T>(dv));
  });
}

// Channel-first attention on the CPU: the token-layout ops with transposes around them.
void CpuBackend::attention_channels_first_forward(const Tensor& q, const Tensor& k,
                                                  const Tensor& v, double scale, Tensor& o,
                                                  Tensor& lse) {
  attention_channels_first_by_transposes_forward(*this, q, k, v, scale, o, lse);
}

void CpuBackend::attention_channels_first_backward(const Tensor& q, const Tensor& k,
                                                   const Tensor& v, const Tensor& o,
                                                   const Tensor& lse, const Tensor& d_o,
                                                   double scale, Tensor& dq, Tensor& dk,
                                                   Tensor& dv) {
  attention_channels_first_by_transposes_backward(*this, q, k, v, o, lse, d_o, scale, dq, dk, dv);
}

}  // namespace s2dm
