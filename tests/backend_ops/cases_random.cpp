// Cases: Philox uniform and normal fills, bit-identical to the CPU backend.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

void add_random_cases(std::vector<OpCase>& cases) {
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{4099}}) {
    for (uint64_t offset : {uint64_t{0}, uint64_t{5}}) {
      cases.push_back({"fill_uniform", fmt::format("[{}] offset {}", n, offset), 0,
                       [n, offset](OpContext& ctx) {
                         Tensor y = ctx.output({n});
                         return [&ctx, y, offset]() mutable {
                           ctx.backend().fill_uniform(y, 1234, offset, -2.0, 3.0);
                         };
                       }});
      cases.push_back({"fill_normal", fmt::format("[{}] offset {}", n, offset), 0,
                       [n, offset](OpContext& ctx) {
                         Tensor y = ctx.output({n});
                         return [&ctx, y, offset]() mutable {
                           ctx.backend().fill_normal(y, 99, offset, 0.5, 2.0);
                         };
                       }});
    }
  }
}

}  // namespace s2dm::backend_ops
