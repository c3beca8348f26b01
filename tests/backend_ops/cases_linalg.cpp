// Cases: batched matrix products (cuBLAS on the GPU).
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct GemmShape {
  int64_t batch_a, batch_b, batch, m, n, k;
};

}  // namespace

void add_linalg_cases(std::vector<OpCase>& cases) {
  const GemmShape gemms[] = {
      {1, 1, 1, 64, 80, 96}, {4, 4, 4, 17, 33, 9}, {1, 3, 3, 8, 5, 7}, {2, 1, 2, 256, 256, 64},
      {1, 1, 1, 1, 1, 1}};
  for (const GemmShape& g : gemms) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        const std::string desc = fmt::format("batch {}x{} m={} n={} k={} ta={} tb={}", g.batch_a,
                                             g.batch_b, g.m, g.n, g.k, ta, tb);
        // TF32 products carry 10-bit mantissas; the tolerance admits them on the GPU.
        cases.push_back({"gemm", desc, 1e-5, [=](OpContext& ctx) {
                           Tensor a = ctx.input({g.batch_a, ta ? g.k : g.m, ta ? g.m : g.k}, 1);
                           Tensor b = ctx.input({g.batch_b, tb ? g.n : g.k, tb ? g.k : g.n}, 2);
                           Tensor c = ctx.inout({g.batch, g.m, g.n}, 3);
                           return [=, &ctx]() mutable {
                             ctx.backend().gemm(a, ta, b, tb, c, 0.75, 0.5);
                           };
                         }});
      }
    }
  }
}

}  // namespace s2dm::backend_ops
