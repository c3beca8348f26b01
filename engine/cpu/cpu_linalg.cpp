// CPU matrix products through OpenBLAS (row-major cblas).
#include <cblas.h>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace s2dm {

void CpuBackend::gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                      double alpha, double beta) {
  S2DM_CHECK(a.dim() == 3 && b.dim() == 3 && c.dim() == 3, "gemm expects 3-D operands: {} {} {}",
             a.str(), b.str(), c.str());
  const int64_t batch = c.size(0), m = c.size(1), n = c.size(2);
  const int64_t k = trans_a ? a.size(1) : a.size(2);
  S2DM_CHECK((trans_a ? a.size(2) : a.size(1)) == m && (trans_b ? b.size(2) : b.size(1)) == k &&
                 (trans_b ? b.size(1) : b.size(2)) == n,
             "gemm shape mismatch: a {}{} b {}{} c {}", a.str(), trans_a ? "ᵀ" : "", b.str(),
             trans_b ? "ᵀ" : "", c.str());
  S2DM_CHECK((a.size(0) == batch || a.size(0) == 1) && (b.size(0) == batch || b.size(0) == 1),
             "gemm batch mismatch: a {} b {} c {}", a.str(), b.str(), c.str());
  const int64_t sa = a.size(0) == 1 ? 0 : a.size(1) * a.size(2);
  const int64_t sb = b.size(0) == 1 ? 0 : b.size(1) * b.size(2);
  const int lda = static_cast<int>(a.size(2)), ldb = static_cast<int>(b.size(2));
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
  if (a.dtype() == DType::F32) {
    for (int64_t i = 0; i < batch; ++i)
      cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, static_cast<float>(alpha), a.data<float>() + i * sa,
                  lda, b.data<float>() + i * sb, ldb, static_cast<float>(beta),
                  c.data<float>() + i * m * n, N);
  } else if (a.dtype() == DType::F64) {
    for (int64_t i = 0; i < batch; ++i)
      cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a.data<double>() + i * sa, lda,
                  b.data<double>() + i * sb, ldb, beta, c.data<double>() + i * m * n, N);
  } else {
    fail("gemm: {} is a storage type; convert to float32 first", dtype_name(a.dtype()));
  }
}

}  // namespace s2dm
