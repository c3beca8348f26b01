// Cases: 2-D convolutions, forward and backward (cuDNN, or batched products for 1x1, on the GPU).
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct ConvShape {
  int64_t n, ci, h, w, co, kh, kw;
  int stride, pad_h, pad_w;
};

const ConvShape kConvShapes[] = {
    {2, 128, 32, 32, 128, 3, 3, 1, 1, 1},  // CIFAR-10 UNet top level
    {2, 256, 8, 8, 256, 3, 3, 1, 1, 1},    // lower level
    {2, 64, 16, 16, 64, 3, 3, 2, 0, 0},    // downsample (asymmetric pad is applied before, by pad2d)
    {2, 128, 16, 16, 256, 1, 1, 1, 0, 0},  // 1x1 skip projection (device backends: batched gemm)
    {3, 5, 3, 7, 6, 1, 1, 1, 0, 0},        // 1x1 at odd sizes
    {2, 8, 6, 6, 4, 1, 1, 2, 0, 0},        // 1x1 with stride 2: not the gemm path
    {3, 3, 7, 9, 5, 3, 3, 1, 1, 1},        // odd sizes, RGB input
    {1, 4, 5, 5, 3, 3, 3, 2, 1, 1},        // stride 2 with padding
    {2, 32, 17, 17, 24, 1, 7, 1, 0, 3},    // Inception's 1x7 and 7x1 (17x17 grid)
    {2, 24, 17, 17, 32, 7, 1, 1, 3, 0},
    {2, 16, 35, 35, 24, 3, 3, 2, 0, 0},    // Inception's unpadded stride-2 reduction
    {2, 6, 5, 7, 4, 1, 1, 1, 0, 1},        // 1x1 padded on W only: not the gemm path
    {1, 3, 6, 5, 2, 3, 5, 2, 2, 1},        // asymmetric padding with stride 2
};

}  // namespace

void add_conv_cases(std::vector<OpCase>& cases) {
  for (const ConvShape& s : kConvShapes) {
    const int64_t ho = (s.h + 2 * s.pad_h - s.kh) / s.stride + 1;
    const int64_t wo = (s.w + 2 * s.pad_w - s.kw) / s.stride + 1;
    const Conv2dParams p{s.stride, s.pad_h, s.pad_w};
    const std::string desc =
        fmt::format("x [{},{},{},{}] w [{},{},{},{}] stride {} pad ({}, {})", s.n, s.ci, s.h, s.w,
                    s.co, s.ci, s.kh, s.kw, s.stride, s.pad_h, s.pad_w);
    const Shape xs{s.n, s.ci, s.h, s.w}, ws{s.co, s.ci, s.kh, s.kw}, ys{s.n, s.co, ho, wo};
    for (bool bias : {true, false}) {
      cases.push_back({"conv2d_forward", desc + (bias ? " bias" : ""), 1e-5, [=](OpContext& ctx) {
                         Tensor x = ctx.input(xs, 1), w = ctx.input(ws, 2, 0.1);
                         Tensor b = bias ? ctx.input({s.co}, 3) : Tensor();
                         Tensor y = ctx.output(ys);
                         return [=, &ctx]() mutable { ctx.backend().conv2d_forward(x, w, b, y, p); };
                       }});
    }
    // All three gradients, then each alone (the backend computes only what is asked for).
    for (int want : {7, 1, 2, 4}) {
      cases.push_back({"conv2d_backward", fmt::format("{} want {}", desc, want), 1e-5,
                       [=](OpContext& ctx) {
                         Tensor x = ctx.input(xs, 1), w = ctx.input(ws, 2, 0.1);
                         Tensor dy = ctx.input(ys, 4);
                         Tensor dx = (want & 1) ? ctx.output(xs) : Tensor();
                         Tensor dw = (want & 2) ? ctx.output(ws) : Tensor();
                         Tensor db = (want & 4) ? ctx.output({s.co}) : Tensor();
                         return [=, &ctx]() mutable {
                           ctx.backend().conv2d_backward(x, w, dy, dx, dw, db, p);
                         };
                       }});
    }
  }
}

}  // namespace s2dm::backend_ops
