// Cases: the fused S²-DM loss at the CIFAR-10 training shapes and odd sizes, with samples on both
// sides of the t < skip mask, mean and sum reductions, with and without dout, and eps2 = eps1.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct LossShape {
  Shape shape;
  bool all_reductions;  // both reductions with and without dout, else only the mean with dout
};

const LossShape kLossShapes[] = {
    {{1, 3, 32, 32}, true},    // one CIFAR-10 image
    {{4, 3, 32, 32}, true},    // a small batch
    {{128, 3, 32, 32}, true},  // the training batch
    {{3, 7, 5, 3}, true},      // odd P = 105
    {{33, 7, 5, 3}, false},    // a batch just past one warp
    {{2, 1031}, false},        // P past one block sweep, not a multiple of 32
    {{7, 1}, false},           // one element per sample
};

// Per-sample coefficients: every third sample has t < skip (wskip = 0, w0 = 1), the others
// τ = 0.7; c spans the schedule's range for a jump of 9 steps.
struct Coefficients {
  std::vector<double> c, w0, wskip;
};

Coefficients coefficients(int64_t batch) {
  Coefficients k;
  for (int64_t b = 0; b < batch; ++b) {
    const bool below_skip = b % 3 == 0;
    k.c.push_back(0.03 + 0.5 * static_cast<double>((b * 37) % 101) / 101.0);
    k.w0.push_back(below_skip ? 1.0 : 0.7);
    k.wskip.push_back(below_skip ? 0.0 : 0.3);
  }
  return k;
}

void add_case(std::vector<OpCase>& cases, const Shape& shape, bool sum, bool want_dout,
              bool same_noise) {
  const int64_t batch = shape[0], per = shape_numel(shape) / batch;
  const double inv_reduce = sum ? 1.0 : 1.0 / static_cast<double>(per);
  const std::string desc = fmt::format("{} {} dout={}{}", shape_str(shape), sum ? "sum" : "mean",
                                       want_dout, same_noise ? " eps2=eps1" : "");
  cases.push_back({"skip_loss", desc, 1e-10, [=](OpContext& ctx) {
                     const Coefficients k = coefficients(batch);
                     Tensor out = ctx.input(shape, 31, 1.2, 0.1);
                     Tensor eps1 = ctx.input(shape, 32, 1.7);
                     Tensor eps2 = same_noise ? eps1 : ctx.input(shape, 33, 1.7);
                     Tensor c = ctx.values(k.c, {batch}), w0 = ctx.values(k.w0, {batch});
                     Tensor wskip = ctx.values(k.wskip, {batch});
                     Tensor l0 = ctx.output({batch}), lskip = ctx.output({batch});
                     Tensor loss = ctx.output(Shape{});
                     Tensor dout = want_dout ? ctx.output(shape) : Tensor();
                     return [=, &ctx]() mutable {
                       ctx.backend().skip_loss(out, eps1, eps2, c, w0, wskip, inv_reduce, l0, lskip,
                                               loss, dout);
                     };
                   }});
}

}  // namespace

void add_loss_cases(std::vector<OpCase>& cases) {
  for (const LossShape& s : kLossShapes) {
    for (bool sum : {false, true}) {
      for (bool want_dout : {true, false}) {
        if (s.all_reductions || (!sum && want_dout))
          add_case(cases, s.shape, sum, want_dout, false);
      }
    }
  }
  add_case(cases, {4, 3, 32, 32}, false, true, true);
}

}  // namespace s2dm::backend_ops
