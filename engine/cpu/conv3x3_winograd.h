// Winograd F(m×m, 3×3) convolutions for 3x3, stride-1, padding-1 layers (NCHW): forward, input
// gradient and weight gradient, with output tiles of m = 4 or 2, in float32 and float64.
//
// oneDNN's Winograd kernels need AVX-512; on an AVX2 machine its direct kernels already run near
// the FMA units' peak, so the only way to go faster there is fewer multiplies. F(4×4, 3×3) does a
// 4x4 output tile per channel pair with 36 products instead of 144 (16 for 36 with m = 2), as α²
// independent GEMMs on OpenBLAS between cheap transforms. The CPU backend runs these where
// winograd_tile says they pay; the kernels are in conv3x3_winograd.cpp.
#pragma once
#include <cstdint>

namespace s2dm::cpu {

// x [n, ci, h, w], weights [co, ci, 3, 3], y and dy [n, co, h, w].
struct Conv3x3Shape {
  int64_t n = 0, ci = 0, co = 0, h = 0, w = 0;
};

// The output tile edge that pays for this shape against direct kernels (4: from 64 channels
// either side and 32 output tiles of 4x4 up), or 0 where they are faster. m = 2, 2.25x fewer
// multiplies instead of 4x but 4x more accurate, is there for callers that choose it.
int winograd_tile(const Conv3x3Shape& s);

// y = conv(x, w) + bias; bias may be null. m is 2 or 4.
template <typename T>
void winograd_conv3x3_forward(int m, const Conv3x3Shape& s, const T* x, const T* w,
                              const T* bias, T* y);
// dx = the input gradient for output gradient dy (overwritten).
template <typename T>
void winograd_conv3x3_input_grad(int m, const Conv3x3Shape& s, const T* w, const T* dy, T* dx);
// dw = the weight gradient for input x and output gradient dy (overwritten).
template <typename T>
void winograd_conv3x3_weight_grad(int m, const Conv3x3Shape& s, const T* x, const T* dy, T* dw);

}  // namespace s2dm::cpu
