// Cases: last-dim softmax on short rows (a warp per row), rows at the warp/block boundary and long
// rows (a block per row).
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

void add_softmax_cases(std::vector<OpCase>& cases) {
  const Shape shapes[] = {{1, 1}, {7, 33}, {64, 256}, {4, 16, 256}, {5, 1024}, {2, 1025},
                          {3, 1500}};
  for (const Shape& shape : shapes) {
    const std::string desc = shape_str(shape);
    // A spread of ±4 makes the max subtraction matter in float.
    cases.push_back({"softmax_forward", desc, 1e-12, [=](OpContext& ctx) {
                       Tensor x = ctx.input(shape, 1, 4.0, 0.5), y = ctx.output(shape);
                       return [=, &ctx]() mutable { ctx.backend().softmax_forward(x, y); };
                     }});
    cases.push_back({"softmax_backward", desc, 1e-12, [=](OpContext& ctx) {
                       Tensor y = Tensor::empty(shape, ctx.dtype(), ctx.device());
                       ctx.backend().softmax_forward(ctx.input(shape, 1, 4.0, 0.5), y);
                       Tensor dy = ctx.input(shape, 2), dx = ctx.output(shape);
                       return [=, &ctx]() mutable { ctx.backend().softmax_backward(y, dy, dx); };
                     }});
  }
}

}  // namespace s2dm::backend_ops
