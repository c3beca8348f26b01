// Cases: the sinusoidal timestep embedding at the UNet's dim and odd dims.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct EmbeddingCase {
  int64_t n, dim;
  bool integer_t;  // the schedule's steps (n >= 2), else values spread over [0, 1000)
};

const EmbeddingCase kEmbeddingCases[] = {
    {4, 128, true},  // the CIFAR-10 UNet: dim = ch
    {4, 128, false}, {2, 256, false}, {1, 4, false},
    {7, 5, false},   {3, 33, false},  {2, 1001, false},
};

Tensor timesteps(OpContext& ctx, const EmbeddingCase& e) {
  if (!e.integer_t) return ctx.input({e.n}, 5, 500.0, 500.0);
  std::vector<double> t;  // evenly from 0 to 999
  for (int64_t i = 0; i < e.n; ++i) t.push_back(static_cast<double>(999 * i / (e.n - 1)));
  return ctx.values(t, {e.n});
}

}  // namespace

void add_embedding_cases(std::vector<OpCase>& cases) {
  // Timesteps up to 999, where sin and cos of t·f are most sensitive to rounding.
  for (const EmbeddingCase& e : kEmbeddingCases) {
    const std::string desc =
        fmt::format("t [{}] dim {}{}", e.n, e.dim, e.integer_t ? " integer t" : "");
    cases.push_back({"timestep_embedding_forward", desc, 1e-12, [=](OpContext& ctx) {
                       Tensor t = timesteps(ctx, e);
                       Tensor emb = ctx.output({e.n, e.dim});
                       return [&ctx, t, emb, e]() mutable {
                         ctx.backend().timestep_embedding_forward(t, e.dim, emb);
                       };
                     }});
    // dt sums demb·f·(cos, −sin) over the dimension, which cancels: its relative error is larger.
    cases.push_back({"timestep_embedding_backward", desc, 1e-10, [=](OpContext& ctx) {
                       Tensor t = timesteps(ctx, e);
                       Tensor demb = ctx.input({e.n, e.dim}, 6);
                       Tensor dt = ctx.output({e.n});
                       return [&ctx, t, demb, dt, e]() mutable {
                         ctx.backend().timestep_embedding_backward(t, e.dim, demb, dt);
                       };
                     }});
  }
}

}  // namespace s2dm::backend_ops
