// Cases: nearest 2x upsampling and constant 2-D padding (forward and backward) at the CIFAR-10
// UNet's shapes and odd sizes; bilinear resizing at pytorch-fid's (32x32 to 299x299, one channel
// to keep the emulator quick), up, down and to the same size.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

const Shape kUpsampleShapes[] = {
    {2, 256, 16, 16},  // the UNet's last upsample, to 32x32
    {4, 256, 8, 8},    // and the one before
    {2, 256, 4, 4},
    {3, 5, 7, 9},  // odd sizes
    {1, 3, 1, 33},
    {1, 1, 1, 1},
};

struct PadCase {
  Shape shape;
  Pad2dParams pad;
};

const PadCase kPadCases[] = {
    {{2, 128, 32, 32}, {0, 1, 0, 1, 0.0}},  // the UNet's downsample padding, at each level
    {{2, 256, 16, 16}, {0, 1, 0, 1, 0.0}},
    {{4, 256, 8, 8}, {0, 1, 0, 1, 0.0}},
    {{3, 5, 7, 9}, {2, 0, 1, 3, 0.5}},  // asymmetric, odd sizes, a value fill
    {{2, 3, 4, 1}, {3, 5, 0, 2, -1.25}},
    {{1, 1, 1, 1}, {1, 1, 1, 1, 2.0}},
    {{1, 2, 5, 3}, {0, 0, 0, 0, 7.0}},  // no padding: a copy
};

struct ResizeCase {
  Shape shape;
  int64_t ho, wo;
};

const ResizeCase kResizeCases[] = {
    {{1, 1, 32, 32}, 299, 299},  // pytorch-fid: CIFAR-10 to Inception's input (one channel)
    {{1, 1, 28, 28}, 299, 299},  // and MNIST-sized images
    {{2, 3, 5, 7}, 11, 4},       // up on H, down on W
    {{1, 2, 17, 13}, 5, 6},      // down by non-integer factors
    {{2, 4, 9, 9}, 9, 9},        // same size: a copy
    {{1, 1, 1, 1}, 3, 2},        // one pixel
    {{1, 2, 3, 1}, 1, 4},
};

std::string pad_str(const Pad2dParams& p) {
  return fmt::format("pad (left {}, right {}, top {}, bottom {}) value {}", p.left, p.right, p.top,
                     p.bottom, p.value);
}

}  // namespace

void add_resample_cases(std::vector<OpCase>& cases) {
  // Copies and a fixed-order sum of four: bit-identical to the CPU backend.
  for (const Shape& xs : kUpsampleShapes) {
    const Shape ys{xs[0], xs[1], 2 * xs[2], 2 * xs[3]};
    cases.push_back({"upsample_nearest2x_forward", shape_str(xs), 0, [=](OpContext& ctx) {
                       Tensor x = ctx.input(xs, 1), y = ctx.output(ys);
                       return [&ctx, x, y]() mutable {
                         ctx.backend().upsample_nearest2x_forward(x, y);
                       };
                     }});
    cases.push_back({"upsample_nearest2x_backward", shape_str(xs), 0, [=](OpContext& ctx) {
                       Tensor dy = ctx.input(ys, 2), dx = ctx.output(xs);
                       return [&ctx, dy, dx]() mutable {
                         ctx.backend().upsample_nearest2x_backward(dy, dx);
                       };
                     }});
  }
  // Same taps on both sides (resample_math.h); the device gathers where the CPU scatters, so
  // backward agrees to rounding.
  for (const ResizeCase& rc : kResizeCases) {
    const Shape xs = rc.shape, ys{xs[0], xs[1], rc.ho, rc.wo};
    const std::string desc = shape_str(xs) + " to " + shape_str(ys);
    cases.push_back({"upsample_bilinear2d_forward", desc, 1e-12, [=](OpContext& ctx) {
                       Tensor x = ctx.input(xs, 5), y = ctx.output(ys);
                       return [&ctx, x, y]() mutable {
                         ctx.backend().upsample_bilinear2d_forward(x, y);
                       };
                     }});
    cases.push_back({"upsample_bilinear2d_backward", desc, 1e-12, [=](OpContext& ctx) {
                       Tensor dy = ctx.input(ys, 6), dx = ctx.output(xs);
                       return [&ctx, dy, dx]() mutable {
                         ctx.backend().upsample_bilinear2d_backward(dy, dx);
                       };
                     }});
  }
  for (const PadCase& pc : kPadCases) {
    const Shape xs = pc.shape;
    const Pad2dParams p = pc.pad;
    const Shape ys{xs[0], xs[1], xs[2] + p.top + p.bottom, xs[3] + p.left + p.right};
    const std::string desc = shape_str(xs) + " " + pad_str(p);
    cases.push_back({"pad2d_forward", desc, 0, [=](OpContext& ctx) {
                       Tensor x = ctx.input(xs, 3), y = ctx.output(ys);
                       return [&ctx, x, y, p]() mutable { ctx.backend().pad2d_forward(x, p, y); };
                     }});
    cases.push_back({"pad2d_backward", desc, 0, [=](OpContext& ctx) {
                       Tensor dy = ctx.input(ys, 4), dx = ctx.output(xs);
                       return [&ctx, dy, dx, p]() mutable {
                         ctx.backend().pad2d_backward(dy, p, dx);
                       };
                     }});
  }
}

}  // namespace s2dm::backend_ops
