// Cases: Adam, EMA and the fused Adam + EMA step over flat buffers, at sizes from one element to
// about the CIFAR-10 UNet's 35.7 M parameters / 64, with and without weight decay and gradient
// clipping (a host scale, or a squared norm on the device: clipped, not clipped, NaN, infinite),
// at the first step and late in training.
#include <cmath>
#include <limits>
#include <iterator>

#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

// The state (param, m, v, ema) is compared, so it sits in guarded buffers, all at one offset.
// A gradient in a guarded buffer too shares its alignment (the kernels then move whole 16-byte
// packs after a short head); a separately allocated one does not (element by element).
struct OptimState {
  Tensor param, grad, m, v;
};

OptimState optim_state(OpContext& ctx, int64_t n, bool grad_with_state) {
  const Shape s{n};
  OptimState st;
  st.param = ctx.inout(s, 1);
  st.grad = grad_with_state ? ctx.inout(s, 2, 0.02, 0.003) : ctx.input(s, 2, 0.02, 0.003);
  st.m = ctx.inout(s, 3, 0.005);
  st.v = ctx.inout(s, 4, 2e-5, 2e-5);  // non-negative
  return st;
}

std::string alignment_str(bool grad_with_state) {
  return grad_with_state ? "grad aligned with state" : "grad aligned apart";
}

}  // namespace

void add_optim_cases(std::vector<OpCase>& cases) {
  const int64_t sizes[] = {1, 7, 1000, 558547};
  // Every option off and on, at the first step and late in training; the last has them all on.
  const struct {
    int64_t step;
    double weight_decay, grad_scale;
  } settings[] = {{1, 0.0, 1.0}, {1, 0.01, 0.37}, {1000, 0.0, 0.37}, {1000, 0.01, 0.37}};
  const size_t all_on = std::size(settings) - 1;
  // Elementwise in the parameter dtype with the CPU's expressions: only FMA contraction on the
  // GPU can tell the results apart.
  constexpr double tol = 1e-12;
  for (int64_t n : sizes) {
    // The emulator runs a fiber per GPU thread, so the large size takes only the trainer's path
    // (buffers aligned alike) with every option on.
    const bool large = n > 1000;
    for (bool aligned : {true, false}) {
      if (large && !aligned) continue;
      for (size_t i = large ? all_on : 0; i < std::size(settings); ++i) {
        AdamParams p;
        p.lr = 2e-4;
        p.step = settings[i].step;
        p.weight_decay = settings[i].weight_decay;
        p.grad_scale = settings[i].grad_scale;
        const std::string desc =
            fmt::format("[{}] step {} weight_decay {} grad_scale {}, {}", n, p.step,
                        p.weight_decay, p.grad_scale, alignment_str(aligned));
        cases.push_back({"adam_step", desc, tol, [=](OpContext& ctx) {
                           OptimState st = optim_state(ctx, n, aligned);
                           return [&ctx, st, p]() mutable {
                             ctx.backend().adam_step(st.param, st.grad, st.m, st.v, Tensor(), p);
                           };
                         }});
        cases.push_back({"adam_ema_step", desc + ", ema decay 0.9999", tol, [=](OpContext& ctx) {
                           OptimState st = optim_state(ctx, n, aligned);
                           Tensor ema = ctx.inout({n}, 5);
                           return [&ctx, st, ema, p]() mutable {
                             ctx.backend().adam_ema_step(st.param, st.grad, st.m, st.v, ema,
                                                         Tensor(), p, 0.9999);
                           };
                         }});
      }
      // Clipped by a squared norm on the device (max_norm 1): not clipped, clipped to a third,
      // and two norms that are not finite (the state must come back unchanged).
      const double inf = std::numeric_limits<double>::infinity();
      for (double sq : {0.25, 9.0, std::nan(""), inf}) {
        if (large && sq != 9.0) continue;
        AdamParams p;
        p.lr = 2e-4;
        p.step = 1000;
        p.weight_decay = 0.01;
        p.max_norm = 1.0;
        const std::string desc = fmt::format("[{}] grad_sq {} max_norm 1, {}", n, sq,
                                             alignment_str(aligned));
        cases.push_back({"adam_step", desc, tol, [=](OpContext& ctx) {
                           OptimState st = optim_state(ctx, n, aligned);
                           Tensor gsq = ctx.values({sq}, {1}, DType::F64);
                           return [&ctx, st, gsq, p]() mutable {
                             ctx.backend().adam_step(st.param, st.grad, st.m, st.v, gsq, p);
                           };
                         }});
        cases.push_back({"adam_ema_step", desc + ", ema decay 0.9999", tol, [=](OpContext& ctx) {
                           OptimState st = optim_state(ctx, n, aligned);
                           Tensor ema = ctx.inout({n}, 5);
                           Tensor gsq = ctx.values({sq}, {1}, DType::F64);
                           return [&ctx, st, ema, gsq, p]() mutable {
                             ctx.backend().adam_ema_step(st.param, st.grad, st.m, st.v, ema, gsq,
                                                         p, 0.9999);
                           };
                         }});
      }
      for (double decay : {0.9999, 0.5, 0.0}) {
        if (large && decay != 0.9999) continue;
        cases.push_back({"ema_update",
                         fmt::format("[{}] decay {}, param {}", n, decay,
                                     aligned ? "aligned with ema" : "aligned apart"),
                         tol, [=](OpContext& ctx) {
                           Tensor ema = ctx.inout({n}, 5);
                           Tensor param = aligned ? ctx.inout({n}, 1) : ctx.input({n}, 1);
                           return [&ctx, ema, param, decay]() mutable {
                             ctx.backend().ema_update(ema, param, decay);
                           };
                         }});
      }
    }
  }
}

}  // namespace s2dm::backend_ops
