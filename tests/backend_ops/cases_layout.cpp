// Cases: fill and copy.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

void add_layout_cases(std::vector<OpCase>& cases) {
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{65537}}) {
    cases.push_back({"fill", fmt::format("[{}] = -1.5", n), 0, [n](OpContext& ctx) {
                       Tensor y = ctx.output({n});
                       return [&ctx, y]() mutable { ctx.backend().fill(y, -1.5); };
                     }});
    cases.push_back({"copy", fmt::format("contiguous [{}]", n), 0, [n](OpContext& ctx) {
                       Tensor x = ctx.input({n}, 3), y = ctx.output({n});
                       return [&ctx, x, y]() mutable { ctx.backend().copy(x, y); };
                     }});
  }
}

}  // namespace s2dm::backend_ops
