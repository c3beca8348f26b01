// Direct 3x3 convolution (stride 1, padding 1, float32, NCHW) for 16- and 32-wide images: forward
// and input gradient. There im2col + GEMM is at its worst for few channels: the im2col copy costs
// the same whatever the output channel count, and the GEMM it feeds has only Co rows. The weight
// gradient stays im2col + GEMM (a GEMM whose K runs over all pixels; two direct versions, with
// vectors along the pixels, measured slower in the training step). The kernel is in
// conv3x3_direct.cpp.
#pragma once
#include <cstdint>

namespace s2dm::cpu {

// Whether the kernel handles images W wide: 16 or 32 (one or two 16-float vectors a row).
bool conv3x3_direct_handles(int64_t width);

// y[N, Co, H, W] = conv(x[N, Ci, H, W], w[Co, Ci, 3, 3]) + bias[Co] (bias may be null).
void conv3x3_direct_forward(const float* x, const float* w, const float* bias, int64_t n,
                            int64_t ci, int64_t co, int64_t h, int64_t width, float* y);

// dx[N, Ci, H, W] of the same convolution from dy[N, Co, H, W]: a convolution of dy with w
// transposed and flipped (w'[i][o][kh][kw] = w[o][i][2-kh][2-kw]), by the same kernel.
void conv3x3_direct_input_grad(const float* w, const float* dy, int64_t n, int64_t ci,
                               int64_t co, int64_t h, int64_t width, float* dx);

}  // namespace s2dm::cpu
