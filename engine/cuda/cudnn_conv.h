// 2-D convolutions on cuDNN for the CUDA backend (Backend::conv2d_* semantics, NCHW, square
// stride and symmetric padding, dilation 1, one group).
#pragma once
#include "engine/backend.h"

struct CUstream_st;

namespace s2dm::cuda {

void cudnn_conv2d_forward(int device, CUstream_st* stream, const Tensor& x, const Tensor& w,
                          const Tensor& bias, Tensor& y, Conv2dParams p);
// Writes each of dx, dw, dbias that is defined.
void cudnn_conv2d_backward(int device, CUstream_st* stream, const Tensor& x, const Tensor& w,
                           const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& dbias,
                           Conv2dParams p);
// Algorithms chosen so far (one per shape and direction), for logs and tests.
size_t cudnn_cached_algorithms();

}  // namespace s2dm::cuda
