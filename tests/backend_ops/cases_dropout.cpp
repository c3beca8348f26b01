// Cases: dropout forward and backward, whose Philox mask must equal the CPU backend's bit for bit.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

constexpr uint64_t kDropoutSeed = 0x5eed1234abcdULL, kDropoutOffset = 7;

}  // namespace

void add_dropout_cases(std::vector<OpCase>& cases) {
  for (const Shape& shape : {Shape{2, 128, 32, 32}, Shape{3, 33, 7}, Shape{1001}, Shape{7},
                             Shape{1}}) {
    for (double p : {0.0, 0.1, 0.5}) {
      const std::string desc = fmt::format("{} p={}", shape_str(shape), p);
      // The same Philox mask as the CPU backend, bit for bit.
      cases.push_back({"dropout_forward", desc, 0, [shape, p](OpContext& ctx) {
                         Tensor x = ctx.input(shape, 6), y = ctx.output(shape);
                         return [&ctx, x, p, y]() mutable {
                           ctx.backend().dropout_forward(x, p, kDropoutSeed, kDropoutOffset, y);
                         };
                       }});
      cases.push_back({"dropout_backward", desc, 0, [shape, p](OpContext& ctx) {
                         Tensor dy = ctx.input(shape, 7), dx = ctx.output(shape);
                         return [&ctx, dy, p, dx]() mutable {
                           ctx.backend().dropout_backward(dy, p, kDropoutSeed, kDropoutOffset, dx);
                         };
                       }});
    }
  }
}

}  // namespace s2dm::backend_ops
