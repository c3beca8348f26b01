// Cases: GroupNorm(+SiLU, + per-channel add) forward and backward at UNet shapes and odd sizes.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct GnShape {
  Shape shape;
  int groups;
};

const GnShape kGnShapes[] = {
    {{2, 128, 32, 32}, 32},  // CIFAR-10 UNet, top level
    {{2, 256, 8, 8}, 32},    // a lower level
    {{2, 384, 32, 32}, 32},  // decoder concat: 12 channels a group, 8 rows a thread when cached
    {{2, 256, 4, 4}, 32},    // rows narrower than a warp
    {{3, 64, 7, 5}, 32},     // odd spatial size
    {{2, 6, 3}, 3},          // rank 3, tiny groups
    {{1, 32}, 8},            // no spatial dims
};

}  // namespace

void add_norm_cases(std::vector<OpCase>& cases) {
  for (const GnShape& g : kGnShapes) {
    for (int variant = 0; variant < 5; ++variant) {
      // silu × affine, then the UNet's form: silu, affine and the per-channel time embedding.
      const bool silu = variant % 2 == 1 || variant == 4, affine = variant < 2 || variant == 4;
      const bool with_add = variant == 4;
      {
        const std::string desc = fmt::format("{} G={} silu={} affine={} channel_add={}",
                                             shape_str(g.shape), g.groups, silu, affine, with_add);
        const Shape shape = g.shape;
        const int groups = g.groups;
        const int64_t n = shape[0], c = shape[1];
        cases.push_back({"group_norm_forward", desc, 1e-10, [=](OpContext& ctx) {
                           Tensor x = ctx.input(shape, 11, 1.7, 0.4);
                           Tensor add = with_add ? ctx.input({n, c}, 7, 0.8, 0.1) : Tensor();
                           Tensor gamma = affine ? ctx.input({c}, 5, 0.6, 1.0) : Tensor();
                           Tensor beta = affine ? ctx.input({c}, 6, 0.5, 0.2) : Tensor();
                           Tensor y = ctx.output(shape), mean = ctx.output({n, groups});
                           Tensor rstd = ctx.output({n, groups});
                           return [=, &ctx]() mutable {
                             ctx.backend().group_norm_forward(x, add, gamma, beta, groups, 1e-5,
                                                              silu, y, mean, rstd);
                           };
                         }});
        cases.push_back({"group_norm_backward", desc, 1e-9, [=](OpContext& ctx) {
                           Tensor x = ctx.input(shape, 11, 1.7, 0.4);
                           Tensor dy = ctx.input(shape, 23, 1.0, -0.1);
                           Tensor add = with_add ? ctx.input({n, c}, 7, 0.8, 0.1) : Tensor();
                           Tensor gamma = affine ? ctx.input({c}, 5, 0.6, 1.0) : Tensor();
                           Tensor beta = affine ? ctx.input({c}, 6, 0.5, 0.2) : Tensor();
                           // The saved statistics come from the same backend's forward.
                           Tensor y = Tensor::empty(shape, ctx.dtype(), ctx.device());
                           Tensor mean = Tensor::empty({n, groups}, ctx.dtype(), ctx.device());
                           Tensor rstd = Tensor::empty({n, groups}, ctx.dtype(), ctx.device());
                           ctx.backend().group_norm_forward(x, add, gamma, beta, groups, 1e-5, silu,
                                                            y, mean, rstd);
                           Tensor dx = ctx.output(shape);
                           Tensor dgamma = affine ? ctx.output({c}) : Tensor();
                           Tensor dbeta = affine ? ctx.output({c}) : Tensor();
                           return [=, &ctx]() mutable {
                             ctx.backend().group_norm_backward(x, add, gamma, beta, mean, rstd,
                                                               dy, groups, silu, dx, dgamma,
                                                               dbeta);
                           };
                         }});
      }
    }
  }
}

}  // namespace s2dm::backend_ops
