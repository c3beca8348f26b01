// Float32 2-D convolutions on oneDNN (Debian's libdnnl, the library PyTorch's CPU convolutions run
// on). oneDNN picks its kernels from the CPU's feature flags (AVX2, AVX-512, AMX), never from a
// model list, and it parallelises one convolution over every core even at batch 4, where the
// im2col + GEMM path splits work by sample. The CPU backend routes float32 convolutions here;
// float64 (the reference for gradient checks) stays on im2col + OpenBLAS.
// 3x3 stride-1 convolutions with 32 or more input channels and 32 or more 4x4 output tiles
// (batch x tiles per image) run oneDNN's Winograd kernels where it has them (AVX-512), the rest
// its direct kernels. Below AVX-512, 3x3 stride-1 padding-1 convolutions run s2dm's own Winograd
// kernels (conv3x3_winograd.h) where they pay.
// S2DM_CONV=direct keeps oneDNN on its direct kernels (PyTorch's choice, for comparisons),
// S2DM_CONV=winograd takes Winograd wherever there is one (to measure the rule),
// S2DM_CONV=s2dm-winograd s2dm's own for every 3x3 stride-1 padding-1 convolution, whatever the
// ISA (to compare it with oneDNN's), and S2DM_CONV=native selects the im2col + GEMM path for
// float32 too.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace s2dm::cpu {

struct ConvGeometry {
  int64_t n = 0, ci = 0, h = 0, w = 0;  // input [N, Ci, H, W]
  int64_t co = 0, kh = 0, kw = 0;       // weights [Co, Ci, kh, kw]
  int64_t ho = 0, wo = 0;               // output [N, Co, Ho, Wo]
  int64_t stride = 1;                   // on H and W
  int64_t pad_h = 0, pad_w = 0;         // zero padding on both sides of H, and of W
};

// Where float32 convolutions run; chosen by S2DM_CONV (auto, direct, winograd, s2dm-winograd,
// native) at first use, and by set_conv_path after that. An unknown S2DM_CONV value throws
// s2dm::Error at first use.
enum class ConvPath { onednn_auto, onednn_direct, onednn_winograd, s2dm_winograd, native };
void set_conv_path(ConvPath path);
ConvPath conv_path();
// Whether float32 convolutions of this geometry run on oneDNN: not on the native path, nor when
// oneDNN cannot express the geometry (a stride that leaves input rows unread would need negative
// end padding).
bool onednn_conv_applies(const ConvGeometry& g);
// The output tile (4 or 2) of s2dm's Winograd kernels (conv3x3_winograd.h) for this 3x3
// stride-1 padding-1 geometry on the current path, or 0 where they do not run: auto takes them
// below AVX-512 where winograd_tile says they pay, winograd below AVX-512 for every such layer,
// s2dm-winograd for every such layer on any ISA.
int s2dm_winograd_tile(const ConvGeometry& g);
// The float32 convolution library in use, for benchmark headers, e.g. "oneDNN 2.6.3 on
// avx512_core_amx, Winograd for 3x3 where it pays" or "im2col + OpenBLAS (S2DM_CONV=native)".
std::string conv_library();
// The instruction set oneDNN's kernels use here ("avx2", "avx512_core", ...): the CPU's best,
// or less where ONEDNN_MAX_CPU_ISA limits it (which is how an AVX2 machine can be tried on an
// AVX-512 one). Winograd needs avx512_core or above.
std::string onednn_isa();
bool onednn_has_avx512_core();
// The kernels oneDNN runs for this geometry on the current path, as "forward | backward data |
// backward weights" (e.g. "jit_wino_4x3:avx512_core | ..."), or "s2dm_wino_4x3" for each pass
// where s2dm's Winograd kernels take it; empty where neither applies.
std::string onednn_conv_kernels(const ConvGeometry& g);

// y = conv(x, w) + bias; bias may be null. All buffers contiguous NCHW / OIHW.
// x_owner, when given, is what keeps x's memory alive (its tensor's storage): the forward then
// keeps its reordered copy of x for the weight gradient, which reuses it when the backward call
// names the same x and owner, while that owner is alive; an expired owner frees the copy.
void onednn_conv_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                         float* y, const std::shared_ptr<const void>& x_owner = nullptr);
// Writes each of dx, dw, dbias that is not null (overwriting it).
void onednn_conv_backward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                          float* dx, float* dw, float* dbias,
                          const std::shared_ptr<const void>& x_owner = nullptr);
// How many reordered inputs the forward calls keep for their backward (for tests).
int64_t onednn_saved_inputs();

}  // namespace s2dm::cpu
