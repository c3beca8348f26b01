// Batched matrix products on cuBLAS for the CUDA backend (Backend::gemm semantics: row-major
// [batch, rows, cols], optional transposes, a batch-1 operand shared by every batch entry).
#pragma once
#include "engine/tensor.h"

struct CUstream_st;

namespace s2dm::cuda {

void cublas_gemm(int device, CUstream_st* stream, const Tensor& a, bool trans_a, const Tensor& b,
                 bool trans_b, Tensor& c, double alpha, double beta);

}  // namespace s2dm::cuda
