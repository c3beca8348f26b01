// Cases: max_pool2d and avg_pool2d (forward and backward) at Inception-v3's pooling geometries
// (channels cut down to keep the emulator quick) and odd sizes, with ties for max pooling.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct PoolCase {
  Shape shape;
  Pool2dParams p;
  bool ties = false;  // quantised inputs: many equal maxima per window
};

Pool2dParams window(int kh, int kw, int sh, int sw, int ph, int pw, bool include_pad) {
  Pool2dParams p;
  p.kh = kh, p.kw = kw, p.stride_h = sh, p.stride_w = sw, p.pad_h = ph, p.pad_w = pw;
  p.count_include_pad = include_pad;
  return p;
}

const PoolCase kPoolCases[] = {
    {{2, 8, 35, 35}, window(3, 3, 2, 2, 0, 0, true)},   // Inception's stride-2 max pool
    {{2, 8, 17, 17}, window(3, 3, 1, 1, 1, 1, false)},  // pytorch-fid's FID average pool
    {{2, 8, 17, 17}, window(3, 3, 1, 1, 1, 1, true)},   // torchvision's
    {{3, 5, 7, 9}, window(2, 3, 2, 1, 1, 1, false)},    // odd sizes, anisotropic window
    {{1, 3, 8, 6}, window(4, 2, 3, 2, 2, 0, true)},     // padding of half the window
    {{2, 4, 9, 11}, window(3, 3, 1, 1, 1, 1, true), true},
    {{1, 2, 6, 6}, window(2, 2, 2, 2, 0, 0, true), true},
    {{1, 1, 1, 1}, window(1, 1, 1, 1, 0, 0, true)},
};

std::string pool_str(const Shape& s, const Pool2dParams& p) {
  return fmt::format("{} window {}x{} stride ({}, {}) pad ({}, {}){}", shape_str(s), p.kh, p.kw,
                     p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                     p.count_include_pad ? "" : " count_include_pad=False");
}

// Values in {-2, ..., 2}: windows have many equal maxima, which must resolve to the first.
Tensor quantised(OpContext& ctx, const Shape& shape) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7 + i / 5) % 5) - 2.0;
  return ctx.values(v, shape);
}

}  // namespace

void add_pool_cases(std::vector<OpCase>& cases) {
  // Fixed-order sums on both sides (pool_math.h's windows): bit-identical to the CPU backend.
  for (const PoolCase& pc : kPoolCases) {
    const Shape xs = pc.shape;
    const Pool2dParams p = pc.p;
    const Shape ys{xs[0], xs[1], (xs[2] + 2 * p.pad_h - p.kh) / p.stride_h + 1,
                   (xs[3] + 2 * p.pad_w - p.kw) / p.stride_w + 1};
    const std::string desc = pool_str(xs, p) + (pc.ties ? " ties" : "");
    const bool ties = pc.ties;
    cases.push_back({"max_pool2d_forward", desc, 0, [=](OpContext& ctx) {
                       Tensor x = ties ? quantised(ctx, xs) : ctx.input(xs, 1);
                       Tensor y = ctx.output(ys);
                       return [&ctx, x, y, p]() mutable {
                         ctx.backend().max_pool2d_forward(x, p, y);
                       };
                     }});
    cases.push_back({"max_pool2d_backward", desc, 0, [=](OpContext& ctx) {
                       Tensor x = ties ? quantised(ctx, xs) : ctx.input(xs, 1);
                       Tensor dy = ctx.input(ys, 2), dx = ctx.output(xs);
                       return [&ctx, x, dy, dx, p]() mutable {
                         ctx.backend().max_pool2d_backward(x, dy, p, dx);
                       };
                     }});
    if (ties) continue;
    cases.push_back({"avg_pool2d_forward", desc, 0, [=](OpContext& ctx) {
                       Tensor x = ctx.input(xs, 3), y = ctx.output(ys);
                       return [&ctx, x, y, p]() mutable {
                         ctx.backend().avg_pool2d_forward(x, p, y);
                       };
                     }});
    cases.push_back({"avg_pool2d_backward", desc, 0, [=](OpContext& ctx) {
                       Tensor dy = ctx.input(ys, 4), dx = ctx.output(xs);
                       return [&ctx, dy, dx, p]() mutable {
                         ctx.backend().avg_pool2d_backward(dy, p, dx);
                       };
                     }});
  }
}

}  // namespace s2dm::backend_ops
