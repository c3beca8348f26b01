// Cases: single-head attention forward and backward at the CIFAR-10 UNet's attention shapes
// (16x16 and 8x8 feature maps), odd sizes, N != M, feature widths that split over several blocks,
// no queries, two scales and every subset of gradients, each on both device paths (batched
// products around the softmax, and the streaming kernels); the channel-first forms at a UNet
// shape and odd sizes, on both paths.
#include <cmath>

#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

struct AttnShape {
  int64_t b, n, m, c, d;
};

const AttnShape kAttnShapes[] = {
    {2, 256, 256, 256, 256},  // CIFAR-10 UNet, 16x16 at 256 channels
    {2, 64, 64, 128, 128},    // 8x8 at 128 channels
    {3, 7, 5, 9, 11},         // odd sizes
    {2, 70, 33, 20, 65},      // N > M, one partial tile each
    {1, 40, 130, 150, 40},    // M > N; C splits over two blocks, D does not
    {1, 33, 100, 136, 200},   // C and D both split, partial last splits
    {2, 1, 3, 1, 2},          // single query, one feature
};

// The gradient subsets: all three, then each alone (the backend computes only what is asked).
constexpr int kAllGrads = 7;
const int kGradSubsets[] = {kAllGrads, 1, 2, 4};

// Which device path (batched products, or the streaming kernels) and which layout: tokens
// (q [B,N,C], k [B,M,C], v [B,M,D] -> o [B,N,D]) or channels first (q [B,C,N], k [B,C,M],
// v [B,D,M] -> o [B,D,N]).
struct AttnVariant {
  bool streaming = false, channels_first = false;
};

std::string attn_desc(const AttnShape& s, double scale, AttnVariant var) {
  return fmt::format("B {} N {} M {} C {} D {} scale {:.4g}{}{}", s.b, s.n, s.m, s.c, s.d, scale,
                     var.streaming ? " streaming" : "", var.channels_first ? " channels first" : "");
}

// Sets attention_scores_limit() for a scope: 0 sends device backends down the streaming kernels.
struct ScoresLimit {
  size_t was = attention_scores_limit();
  explicit ScoresLimit(bool streaming) {
    if (streaming) set_attention_scores_limit(0);
  }
  ~ScoresLimit() { set_attention_scores_limit(was); }
};

void forward(Backend& be, AttnVariant var, const Tensor& q, const Tensor& k, const Tensor& v,
             double scale, Tensor& o, Tensor& lse) {
  ScoresLimit limit(var.streaming);
  if (var.channels_first)
    be.attention_channels_first_forward(q, k, v, scale, o, lse);
  else
    be.attention_forward(q, k, v, scale, o, lse);
}

void add_attention_shape(std::vector<OpCase>& cases, const AttnShape& s, double scale,
                         bool grad_subsets, AttnVariant var) {
  const bool cf = var.channels_first;
  const Shape qs = cf ? Shape{s.b, s.c, s.n} : Shape{s.b, s.n, s.c};
  const Shape ks = cf ? Shape{s.b, s.c, s.m} : Shape{s.b, s.m, s.c};
  const Shape vs = cf ? Shape{s.b, s.d, s.m} : Shape{s.b, s.m, s.d};
  const Shape os = cf ? Shape{s.b, s.d, s.n} : Shape{s.b, s.n, s.d};
  const Shape ls{s.b, s.n};
  const std::string desc = attn_desc(s, scale, var);
  if (s.n > 0) {
    cases.push_back({cf ? "attention_channels_first_forward" : "attention_forward", desc, 1e-10,
                     [=](OpContext& ctx) {
                       Tensor q = ctx.input(qs, 1), k = ctx.input(ks, 2), v = ctx.input(vs, 3);
                       Tensor o = ctx.output(os), lse = ctx.output(ls);
                       return [=, &ctx]() mutable {
                         forward(ctx.backend(), var, q, k, v, scale, o, lse);
                       };
                     }});
  }
  for (int want : kGradSubsets) {
    if (want != kAllGrads && !grad_subsets) continue;
    cases.push_back({cf ? "attention_channels_first_backward" : "attention_backward",
                     fmt::format("{} want {}", desc, want), 1e-10, [=](OpContext& ctx) {
                       Tensor q = ctx.input(qs, 1), k = ctx.input(ks, 2), v = ctx.input(vs, 3);
                       Tensor d_o = ctx.input(os, 4);
                       // o and lse come from the same backend's forward.
                       Tensor o = Tensor::empty(os, ctx.dtype(), ctx.device());
                       Tensor lse = Tensor::empty(ls, ctx.dtype(), ctx.device());
                       forward(ctx.backend(), var, q, k, v, scale, o, lse);
                       Tensor dq = (want & 1) ? ctx.output(qs) : Tensor();
                       Tensor dk = (want & 2) ? ctx.output(ks) : Tensor();
                       Tensor dv = (want & 4) ? ctx.output(vs) : Tensor();
                       return [=, &ctx]() mutable {
                         ScoresLimit limit(var.streaming);
                         if (cf)
                           ctx.backend().attention_channels_first_backward(q, k, v, o, lse, d_o,
                                                                           scale, dq, dk, dv);
                         else
                           ctx.backend().attention_backward(q, k, v, o, lse, d_o, scale, dq, dk,
                                                            dv);
                       };
                     }});
  }
}

}  // namespace

void add_attention_cases(std::vector<OpCase>& cases) {
  for (bool streaming : {false, true}) {
    const AttnVariant tokens{streaming, false}, channels_first{streaming, true};
    for (const AttnShape& s : kAttnShapes) {
      // The UNet's scale on every shape; a sharper one and every gradient subset on small ones.
      const bool small = s.b * s.n * s.m <= 64 * 64;
      add_attention_shape(cases, s, 1.0 / std::sqrt(static_cast<double>(s.c)), small, tokens);
      if (small) add_attention_shape(cases, s, 1.3, true, tokens);
    }
    // No queries: dk and dv are zero.
    add_attention_shape(cases, {1, 0, 5, 3, 4}, 0.5, true, tokens);
    // Channel first: the UNet's 8x8 level, odd sizes with N != M and C != D.
    for (const AttnShape& s : {AttnShape{2, 64, 64, 128, 128}, AttnShape{2, 70, 33, 20, 65},
                               AttnShape{3, 7, 5, 9, 11}})
      add_attention_shape(cases, s, 1.0 / std::sqrt(static_cast<double>(s.c)), true,
                          channels_first);
  }
}

}  // namespace s2dm::backend_ops
