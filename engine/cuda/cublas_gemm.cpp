// cuBLAS works in column-major order; a row-major [m, n] matrix is the column-major [n, m]
// matrix of its transpose. So the row-major C = op(A)·op(B) is computed as the column-major
// Cᵀ = op(B)ᵀ·op(A)ᵀ: operands swapped, each keeping its own transpose flag, leading dimension
// = the stored row length. One strided-batched call covers every batch entry; a shared (batch-1)
// operand gets batch stride 0. Float32 runs on TF32 tensor cores when tf32_enabled().
#include "engine/cuda/cublas_gemm.h"

#include <mutex>
#include <vector>

#include "engine/backend.h"
#include "engine/cuda/cuda_check.h"

namespace s2dm::cuda {

namespace {

cublasHandle_t handle_for(int device) {
  // One handle per device, created on first use and kept for the process (like the context).
  static std::mutex mu;
  static std::vector<cublasHandle_t> handles;
  std::lock_guard<std::mutex> lock(mu);
  if (handles.size() <= static_cast<size_t>(device)) handles.resize(device + 1, nullptr);
  if (handles[device] == nullptr) S2DM_CUBLAS_CHECK(cublasCreate(&handles[device]));
  return handles[device];
}

}  // namespace

void cublas_gemm(int device, CUstream_st* stream, const Tensor& a, bool trans_a, const Tensor& b,
                 bool trans_b, Tensor& c, double alpha, double beta) {
  S2DM_CHECK(a.dim() == 3 && b.dim() == 3 && c.dim() == 3, "gemm: needs 3-d tensors, got {} {} {}",
             a.str(), b.str(), c.str());
  S2DM_CHECK(a.dtype() == c.dtype() && b.dtype() == c.dtype(), "gemm: dtypes differ: {} {} {}",
             a.str(), b.str(), c.str());
  const int64_t batch = c.size(0), m = c.size(1), n = c.size(2);
  const int64_t k = trans_a ? a.size(1) : a.size(2);
  if (batch == 0 || m == 0 || n == 0) return;
  const int64_t lda = a.size(2), ldb = b.size(2);
  const int64_t stride_a = a.size(0) == 1 ? 0 : a.size(1) * a.size(2);
  const int64_t stride_b = b.size(0) == 1 ? 0 : b.size(1) * b.size(2);
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;

  cublasHandle_t h = handle_for(device);
  S2DM_CUBLAS_CHECK(cublasSetStream(h, stream));
  if (c.dtype() == DType::F64) {
    const double al = alpha, be = beta;
    S2DM_CUBLAS_CHECK(cublasDgemmStridedBatched(
        h, op_b, op_a, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &al,
        b.data<double>(), static_cast<int>(ldb), stride_b, a.data<double>(), static_cast<int>(lda),
        stride_a, &be, c.data<double>(), static_cast<int>(n), m * n, static_cast<int>(batch)));
    return;
  }
  S2DM_CHECK(c.dtype() == DType::F32, "gemm: {} is a storage type; convert to float32", c.str());
  const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
  const cublasComputeType_t compute =
      tf32_enabled() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  S2DM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, op_b, op_a, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &al,
      b.data<float>(), CUDA_R_32F, static_cast<int>(ldb), stride_b, a.data<float>(), CUDA_R_32F,
      static_cast<int>(lda), stride_a, &be, c.data<float>(), CUDA_R_32F, static_cast<int>(n),
      m * n, static_cast<int>(batch), compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace s2dm::cuda
