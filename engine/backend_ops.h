// The Backend's op set, declared once. Each entry is
//   X(family, return type, name, (parameters), (arguments))
// and every list of ops in the engine is an expansion of these macros: the pure virtual methods
// of Backend, the overrides of CpuBackend and KernelBackend, kBackendOpNames (which the
// backend-ops harness checks for parity cases) and the timing wrapper of engine/op_profile.h.
// A new op is one line here; the compiler then names every backend that lacks it.
//
// `family` is the op's family, the same name in every layer: engine/ops/<family>,
// engine/cpu/cpu_<family>.cpp, engine/kernel_backend/<family>.cpp, kernels/<family>.cu,
// tests/backend_ops/cases_<family>.cpp and tests/test_<family>.cpp.
//
// Contracts (engine/backend.h says what holds for every op):
// - fill: out may have any strides; only the elements it covers are written.
// - copy: dst = src; same shape; either may have any strides; converts dtype (incl. BF16).
// - unary: y = f(x); unary_backward: dx = dy·f'(x); clamp: y = min(max(x, lo), hi) (NaN
//   stays NaN), clamp_backward: dx = dy where lo ≤ x ≤ hi, else 0 (both as PyTorch).
// - binary: a and b may be strided (stride 0 for broadcast) views with out's shape.
// - axpy: y += alpha·x (gradient accumulation; same shape).
// - sum_to: out has x's rank with some dims of size 1, which are summed.
// - sum_squares: out (one float64 element, on x's device) = Σ x² over all elements, summed in
//   double (gradient norms; it stays on the device for the optimizer to read).
// - gemm: c[b] = alpha·op(a[b])·op(b[b]) + beta·c[b]; a, b, c are 3-D [batch, rows, cols]; a or
//   b may have batch 1 and is then shared by every batch entry of c.
// - conv2d: x [N,Ci,H,W], w [Co,Ci,kh,kw], bias [Co], y [N,Co,Ho,Wo]; zero padding p.pad_h on the
//   top and bottom, p.pad_w on the left and right; Ho = (H + 2·pad_h − kh) / stride + 1, Wo alike.
// - group_norm: x [N,C,*], gamma/beta [C] (optional), mean/rstd [N,G] saved for backward;
//   x' = x + channel_add[n, c] when channel_add [N, C] is given (the UNet's time embedding, added
//   inside the norm's passes), else x; y = act(gamma·(x' − mean)·rstd + beta), act = SiLU when
//   silu. Backward writes dx = dL/dx' (also dL/dx; dL/d channel_add is its spatial sum).
// - softmax over the last dim.
// - attention: q [B,N,C], k [B,M,C], v [B,M,D] -> o [B,N,D], o = softmax(scale·q kᵀ) v; lse [B,N]
//   is the row log-sum-exp of the scaled scores, so backward recomputes the probabilities
//   instead of storing [B,N,M]. The channel-first forms take q [B,C,N], k [B,C,M], v [B,D,M]
//   -> o [B,D,N], as a 1x1 convolution leaves them (transposes on the CPU; folded into the
//   products on device backends).
// - resample: x [N,C,H,W]; nearest 2x upsampling; constant padding; bilinear resizing to y's
//   [Ho, Wo] with align_corners=False as PyTorch (source = (dst + 0.5)·in/out − 0.5, clamped at 0;
//   the taps and weights of kernels/resample_math.h), backward dx = the transpose (each dy element
//   spread over its four taps).
// - pool: x [N,C,H,W] -> y [N,C,Ho,Wo], window p.kh x p.kw, stride (p.stride_h, p.stride_w),
//   implicit padding (p.pad_h, p.pad_w) on each side, floor mode (kernels/pool_math.h).
//   max_pool2d: the maximum over the window's in-plane elements (padding never wins; the first
//   maximum in scan order, NaN propagates, as PyTorch); nothing is saved: backward recomputes each
//   window's argmax from x and writes dx = the sum of dy over the windows whose argmax it is.
//   avg_pool2d: the window sum over the window size (p.count_include_pad) or over its in-plane
//   element count; backward dx = Σ over covering windows of dy / that divisor.
// - dropout: keep element i when philox::uniform_at(seed, offset, i) >= p; scale 1/(1−p).
// - embedding: sinusoidal timestep embedding t [N] -> emb [N, dim] (DDPM layout [sin | cos]).
// - random: fills from kernels/philox.h's stream.
// - optim: Adam over flat buffers; ema = decay·ema + (1 − decay)·param; adam_ema_step is both
//   in one pass with the same per-element arithmetic (results equal bit for bit). grad_sq, when
//   defined, is the gradient's squared norm (one float64 element on the device, as sum_squares
//   leaves it): the step clips by it (p.max_norm) on the device, and changes nothing at all when
//   it is not finite (kernels/adam_math.h).
// - loss (fused S²-DM loss): out, eps1, eps2 [B, ...] (P elements per sample); c, w0, wskip [B];
//   with s = inv_reduce (1/P for the mean over a sample, 1 for the sum):
//   l0[b] = s·Σ(eps1 − out)², lskip[b] = s·Σ(eps2 − c·out)², loss (one element)
//   = (1/B)·Σ_b (w0·l0 + wskip·lskip), dout = ∂loss/∂out
//   = (2s/B)·(w0·(out − eps1) + wskip·c·(c·out − eps2)); dout may be undefined when not wanted.
#pragma once

// Ops implemented on our own kernels (KernelBackend) and on the CPU.
#define S2DM_KERNEL_OPS(X)                                                                      \
  X(layout, void, fill, (Tensor & out, double value), (out, value))                             \
  X(layout, void, copy, (const Tensor& src, Tensor& dst), (src, dst))                           \
  X(elementwise, void, unary, (UnaryOp op, const Tensor& x, Tensor& y), (op, x, y))             \
  X(elementwise, void, unary_backward,                                                          \
    (UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx), (op, x, dy, dx))               \
  X(elementwise, void, clamp, (const Tensor& x, double lo, double hi, Tensor& y),               \
    (x, lo, hi, y))                                                                             \
  X(elementwise, void, clamp_backward,                                                          \
    (const Tensor& x, double lo, double hi, const Tensor& dy, Tensor& dx), (x, lo, hi, dy, dx)) \
  X(elementwise, void, binary, (BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out),    \
    (op, a, b, out))                                                                            \
  X(elementwise, void, scalar, (ScalarOp op, const Tensor& x, double s, Tensor& y),             \
    (op, x, s, y))                                                                              \
  X(elementwise, void, axpy, (Tensor & y, double alpha, const Tensor& x), (y, alpha, x))        \
  X(reduce, void, sum_to, (const Tensor& x, Tensor& out), (x, out))                             \
  X(reduce, void, sum_squares, (const Tensor& x, Tensor& out), (x, out))                        \
  X(norm, void, group_norm_forward,                                                             \
    (const Tensor& x, const Tensor& channel_add, const Tensor& gamma, const Tensor& beta,       \
     int groups, double eps, bool silu, Tensor& y, Tensor& mean, Tensor& rstd),                 \
    (x, channel_add, gamma, beta, groups, eps, silu, y, mean, rstd))                            \
  X(norm, void, group_norm_backward,                                                            \
    (const Tensor& x, const Tensor& channel_add, const Tensor& gamma, const Tensor& beta,       \
     const Tensor& mean, const Tensor& rstd, const Tensor& dy, int groups, bool silu,           \
     Tensor& dx, Tensor& dgamma, Tensor& dbeta),                                                \
    (x, channel_add, gamma, beta, mean, rstd, dy, groups, silu, dx, dgamma, dbeta))             \
  X(softmax, void, softmax_forward, (const Tensor& x, Tensor& y), (x, y))                       \
  X(softmax, void, softmax_backward, (const Tensor& y, const Tensor& dy, Tensor& dx),           \
    (y, dy, dx))                                                                                \
  X(attention, void, attention_forward,                                                         \
    (const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor& o, Tensor& lse),  \
    (q, k, v, scale, o, lse))                                                                   \
  X(attention, void, attention_backward,                                                        \
    (const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,     \
     const Tensor& d_o, double scale, Tensor& dq, Tensor& dk, Tensor& dv),                      \
    (q, k, v, o, lse, d_o, scale, dq, dk, dv))                                                  \
  X(attention, void, attention_channels_first_forward,                                          \
    (const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor& o, Tensor& lse),  \
    (q, k, v, scale, o, lse))                                                                   \
  X(attention, void, attention_channels_first_backward,                                         \
    (const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,     \
     const Tensor& d_o, double scale, Tensor& dq, Tensor& dk, Tensor& dv),                      \
    (q, k, v, o, lse, d_o, scale, dq, dk, dv))                                                  \
  X(resample, void, upsample_nearest2x_forward, (const Tensor& x, Tensor& y), (x, y))           \
  X(resample, void, upsample_nearest2x_backward, (const Tensor& dy, Tensor& dx), (dy, dx))      \
  X(resample, void, pad2d_forward, (const Tensor& x, Pad2dParams p, Tensor& y), (x, p, y))      \
  X(resample, void, pad2d_backward, (const Tensor& dy, Pad2dParams p, Tensor& dx), (dy, p, dx)) \
  X(resample, void, upsample_bilinear2d_forward, (const Tensor& x, Tensor& y), (x, y))          \
  X(resample, void, upsample_bilinear2d_backward, (const Tensor& dy, Tensor& dx), (dy, dx))     \
  X(pool, void, max_pool2d_forward, (const Tensor& x, Pool2dParams p, Tensor& y), (x, p, y))    \
  X(pool, void, max_pool2d_backward,                                                            \
    (const Tensor& x, const Tensor& dy, Pool2dParams p, Tensor& dx), (x, dy, p, dx))            \
  X(pool, void, avg_pool2d_forward, (const Tensor& x, Pool2dParams p, Tensor& y), (x, p, y))    \
  X(pool, void, avg_pool2d_backward, (const Tensor& dy, Pool2dParams p, Tensor& dx),            \
    (dy, p, dx))                                                                                \
  X(dropout, void, dropout_forward,                                                             \
    (const Tensor& x, double p, uint64_t seed, uint64_t offset, Tensor& y),                     \
    (x, p, seed, offset, y))                                                                    \
  X(dropout, void, dropout_backward,                                                            \
    (const Tensor& dy, double p, uint64_t seed, uint64_t offset, Tensor& dx),                   \
    (dy, p, seed, offset, dx))                                                                  \
  X(embedding, void, timestep_embedding_forward,                                                \
    (const Tensor& t, int64_t dim, Tensor& emb), (t, dim, emb))                                 \
  X(embedding, void, timestep_embedding_backward,                                               \
    (const Tensor& t, int64_t dim, const Tensor& demb, Tensor& dt), (t, dim, demb, dt))         \
  X(random, void, fill_uniform,                                                                 \
    (Tensor & out, uint64_t seed, uint64_t offset, double lo, double hi),                       \
    (out, seed, offset, lo, hi))                                                                \
  X(random, void, fill_normal,                                                                  \
    (Tensor & out, uint64_t seed, uint64_t offset, double mean, double stddev),                 \
    (out, seed, offset, mean, stddev))                                                          \
  X(optim, void, adam_step,                                                                     \
    (Tensor & param, const Tensor& grad, Tensor& m, Tensor& v, const Tensor& grad_sq,           \
     const AdamParams& p),                                                                      \
    (param, grad, m, v, grad_sq, p))                                                            \
  X(optim, void, ema_update, (Tensor & ema, const Tensor& param, double decay),                 \
    (ema, param, decay))                                                                        \
  X(optim, void, adam_ema_step,                                                                 \
    (Tensor & param, const Tensor& grad, Tensor& m, Tensor& v, Tensor& ema,                     \
     const Tensor& grad_sq, const AdamParams& p, double ema_decay),                             \
    (param, grad, m, v, ema, grad_sq, p, ema_decay))                                            \
  X(loss, void, skip_loss,                                                                      \
    (const Tensor& out, const Tensor& eps1, const Tensor& eps2, const Tensor& c,                \
     const Tensor& w0, const Tensor& wskip, double inv_reduce, Tensor& l0, Tensor& lskip,       \
     Tensor& loss, Tensor& dout),                                                               \
    (out, eps1, eps2, c, w0, wskip, inv_reduce, l0, lskip, loss, dout))

// Ops a device takes from a library (cuBLAS, cuDNN; OpenBLAS on the CPU): each device backend
// implements them itself.
#define S2DM_LIBRARY_OPS(X)                                                                    \
  X(linalg, void, gemm,                                                                        \
    (const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, double alpha,    \
     double beta),                                                                             \
    (a, trans_a, b, trans_b, c, alpha, beta))                                                  \
  X(conv, void, conv2d_forward,                                                                \
    (const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, Conv2dParams p),         \
    (x, w, bias, y, p))                                                                        \
  X(conv, void, conv2d_backward,                                                               \
    (const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& dbias, \
     Conv2dParams p),                                                                          \
    (x, w, dy, dx, dw, dbias, p))

#define S2DM_BACKEND_OPS(X) S2DM_KERNEL_OPS(X) S2DM_LIBRARY_OPS(X)

// Expanders for the common cases.
#define S2DM_DECLARE_PURE_OP(family, ret, name, params, args) virtual ret name params = 0;
#define S2DM_DECLARE_OVERRIDE_OP(family, ret, name, params, args) ret name params override;
#define S2DM_OP_NAME(family, ret, name, params, args) #name,
#define S2DM_COUNT_OP(family, ret, name, params, args) +1
#define S2DM_OP_FAMILY(family, ret, name, params, args) #family,
