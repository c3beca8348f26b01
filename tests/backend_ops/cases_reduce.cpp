// Cases: sums over dim subsets (sum_to) and the sum of squares, at UNet shapes and odd sizes.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct SumToShapes {
  Shape x, out;
  const char* what;
};

const SumToShapes kSumTo[] = {
    {{2, 128, 32, 32}, {1, 128, 1, 1}, "UNet bias gradient"},
    {{4, 256, 8, 8}, {1, 256, 1, 1}, "UNet bias gradient"},
    {{2, 128, 32, 32}, {2, 128, 1, 1}, "per-channel sums"},
    {{2, 128, 32, 32}, {1, 1, 1, 1}, "everything"},
    {{64, 256}, {1, 256}, "Linear bias gradient"},
    {{4096, 3}, {1, 3}, "long columns"},
    {{33, 1001}, {33, 1}, "rows"},
    {{33, 1001}, {1, 1001}, "columns"},
    {{3, 5, 7}, {3, 1, 7}, "middle dim"},
    {{3, 5, 7}, {1, 5, 1}, "outer and inner dims"},
    {{2, 3, 4, 5, 6}, {2, 1, 4, 1, 6}, "alternating dims"},
    {{2, 3, 4, 5, 6}, {1, 3, 1, 5, 1}, "alternating dims"},
    {{1, 7, 1}, {1, 7, 1}, "nothing"},
    {{5, 6}, {5, 6}, "nothing"},
    {{7}, {1}, "everything"},
    {{1}, {1}, "one element"},
};

}  // namespace

void add_reduce_cases(std::vector<OpCase>& cases) {
  // Both backends add in double, in different orders: float64 results differ by the rounding
  // of long double-precision sums, float32 results only where that flips a final rounding.
  for (const SumToShapes& s : kSumTo) {
    cases.push_back({"sum_to", fmt::format("{} -> {} {}", shape_str(s.x), shape_str(s.out), s.what),
                     1e-10, [s](OpContext& ctx) {
                       Tensor x = ctx.input(s.x, 1, 1.0, 0.3), out = ctx.output(s.out);
                       return [&ctx, x, out]() mutable { ctx.backend().sum_to(x, out); };
                     }});
  }
  for (const Shape& shape : {Shape{2, 128, 32, 32}, Shape{33, 1001}, Shape{1001}, Shape{63},
                             Shape{7}, Shape{1}}) {
    cases.push_back({"sum_squares", shape_str(shape), 1e-10, [shape](OpContext& ctx) {
                       Tensor x = ctx.input(shape, 2, 1.5, -0.2);
                       Tensor out = ctx.output({1}, DType::F64);
                       return [&ctx, x, out]() mutable { ctx.backend().sum_squares(x, out); };
                     }});
  }
}

}  // namespace s2dm::backend_ops
