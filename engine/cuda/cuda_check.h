// Status checks for the CUDA runtime, cuBLAS and cuDNN. A failed call throws s2dm::Error naming
// the call site (file:line), the expression, the library's error name and its readable message,
// so a user sees what failed instead of a bare status code. Host code only.
#pragma once
#include <cuda_runtime.h>

#include "engine/error.h"

#if __has_include(<cublas_v2.h>)
#include <cublas_v2.h>
#define S2DM_HAVE_CUBLAS_HEADER 1
#endif
#if __has_include(<cudnn.h>)
#include <cudnn.h>
#define S2DM_HAVE_CUDNN_HEADER 1
#endif

namespace s2dm::cuda {

inline void check_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  if (err == cudaSuccess) return;
  // Clear the sticky last-error state of a non-fatal error so the next check reports its own.
  (void)cudaGetLastError();
  fail("CUDA error at {}:{}: {} failed: {} ({})", file, line, expr, cudaGetErrorString(err),
       cudaGetErrorName(err));
}

#ifdef S2DM_HAVE_CUBLAS_HEADER
inline void check_cublas(cublasStatus_t status, const char* expr, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail("cuBLAS error at {}:{}: {} failed: {} ({})", file, line, expr,
       cublasGetStatusString(status), cublasGetStatusName(status));
}
#endif

#ifdef S2DM_HAVE_CUDNN_HEADER
inline void check_cudnn(cudnnStatus_t status, const char* expr, const char* file, int line) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  fail("cuDNN error at {}:{}: {} failed: {} (status {})", file, line, expr,
       cudnnGetErrorString(status), static_cast<int>(status));
}
#endif

}  // namespace s2dm::cuda

#define S2DM_CUDA_CHECK(expr) ::s2dm::cuda::check_cuda((expr), #expr, __FILE__, __LINE__)
#define S2DM_CUBLAS_CHECK(expr) ::s2dm::cuda::check_cublas((expr), #expr, __FILE__, __LINE__)
#define S2DM_CUDNN_CHECK(expr) ::s2dm::cuda::check_cudnn((expr), #expr, __FILE__, __LINE__)
// After a kernel launcher: launch-configuration errors surface here, not at the next sync.
#define S2DM_CUDA_CHECK_LAUNCH() S2DM_CUDA_CHECK(cudaGetLastError())
