// The backend interface: the complete set of primitive ops a device must provide.
//
// The CPU backend is the reference; the CUDA backend implements the same list. Contract for every
// method unless its comment says otherwise:
// - all tensors live on this backend's device and have one dtype (F32 or F64);
// - inputs are contiguous, outputs are allocated by the caller, contiguous, and fully overwritten;
// - optional tensors are passed undefined when absent or not wanted.
// Shape checks happen in the ops layer (engine/ops/), which also records autograd nodes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/tensor.h"

namespace s2dm {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Sigmoid, Silu, Square };
enum class BinaryOp { Add, Sub, Mul, Div };
enum class ScalarOp { Add, Mul, Pow, RSub, RDiv };  // x+s, x*s, x^s, s-x, s/x

struct Conv2dParams {
  int stride = 1;
  int pad = 0;  // symmetric zero padding on H and W
};

struct Pad2dParams {
  int left = 0, right = 0, top = 0, bottom = 0;
  double value = 0.0;
};

struct AdamParams {
  double lr = 2e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  int64_t step = 1;         // 1-based step count used for bias correction
  double grad_scale = 1.0;  // applied to the gradient first (gradient clipping)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // --- memory ---
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  virtual void copy_from_host(void* dst, const void* src, size_t nbytes) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t nbytes) = 0;

  // --- layout ---
  // out may have any strides: the elements it covers are written, no others.
  virtual void fill(Tensor& out, double value) = 0;
  // dst = src elementwise; same shape; both may have any strides; converts dtype (incl. BF16).
  virtual void copy(const Tensor& src, Tensor& dst) = 0;

  // --- elementwise ---
  virtual void unary(UnaryOp op, const Tensor& x, Tensor& y) = 0;
  // dx = dy * f'(x)
  virtual void unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) = 0;
  // a and b may be strided (stride 0 for broadcast) views with out's shape.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  virtual void scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) = 0;
  // y += alpha * x (gradient accumulation; same shape).
  virtual void axpy(Tensor& y, double alpha, const Tensor& x) = 0;

  // --- reductions ---
  // out has x's rank with some dims of size 1: those dims are summed.
  virtual void sum_to(const Tensor& x, Tensor& out) = 0;
  // Σ x² over all elements, in double (gradient norms).
  virtual double sum_squares(const Tensor& x) = 0;

  // --- linear algebra ---
  // c[b] = alpha * op(a[b]) @ op(b[b]) + beta * c[b]; a, b, c are 3-D [batch, rows, cols];
  // a or b may have batch 1 and is then shared by every batch entry of c.
  virtual void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                    double alpha, double beta) = 0;

  // --- convolution: x [N,Ci,H,W], w [Co,Ci,kh,kw], bias [Co], y [N,Co,Ho,Wo] ---
  virtual void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                              Conv2dParams p) = 0;
  virtual void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx,
                               Tensor& dw, Tensor& dbias, Conv2dParams p) = 0;

  // --- group norm: x [N,C,*], gamma/beta [C] (optional), mean/rstd [N,G] saved for backward ---
  // x' = x + channel_add[n, c] when channel_add [N, C] is given (the UNet's time embedding, added
  // inside the norm's passes instead of in a pass of its own), else x' = x;
  // y = act(gamma * (x' - mean) * rstd + beta), act = SiLU when silu, else identity.
  // Backward writes dx = dL/dx' (which is also dL/dx; dL/d channel_add is its spatial sum).
  virtual void group_norm_forward(const Tensor& x, const Tensor& channel_add, const Tensor& gamma,
                                  const Tensor& beta, int groups, double eps, bool silu, Tensor& y,
                                  Tensor& mean, Tensor& rstd) = 0;
  virtual void group_norm_backward(const Tensor& x, const Tensor& channel_add,
                                   const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& dy, int groups, bool silu,
                                   Tensor& dx, Tensor& dgamma, Tensor& dbeta) = 0;

  // --- softmax over the last dim ---
  virtual void softmax_forward(const Tensor& x, Tensor& y) = 0;
  virtual void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) = 0;

  // --- single-head attention: q [B,N,C], k [B,M,C], v [B,M,D] -> o [B,N,D] ---
  // o = softmax(scale * q kᵀ) v; lse [B,N] is the row log-sum-exp of the scaled scores, saved so
  // backward can recompute the probabilities instead of storing [B,N,M].
  virtual void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                                 Tensor& o, Tensor& lse) = 0;
  virtual void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& o, const Tensor& lse, const Tensor& d_o,
                                  double scale, Tensor& dq, Tensor& dk, Tensor& dv) = 0;
  // The same in channel-first layout, as a 1x1 convolution leaves it: q [B,C,N], k [B,C,M],
  // v [B,D,M] -> o [B,D,N] (lse [B,N] as above). These versions transpose to the token layout
  // and back around attention_forward/backward; the device backends override them with products
  // on transposed operands, which need no copies.
  virtual void attention_channels_first_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                double scale, Tensor& o, Tensor& lse);
  virtual void attention_channels_first_backward(const Tensor& q, const Tensor& k,
                                                 const Tensor& v, const Tensor& o,
                                                 const Tensor& lse, const Tensor& d_o,
                                                 double scale, Tensor& dq, Tensor& dk, Tensor& dv);

  // --- resampling: x [N,C,H,W] ---
  virtual void upsample_nearest2x_forward(const Tensor& x, Tensor& y) = 0;
  virtual void upsample_nearest2x_backward(const Tensor& dy, Tensor& dx) = 0;
  virtual void pad2d_forward(const Tensor& x, Pad2dParams p, Tensor& y) = 0;
  virtual void pad2d_backward(const Tensor& dy, Pad2dParams p, Tensor& dx) = 0;

  // --- dropout: keep element i when philox::uniform_at(seed, offset, i) >= p; scale 1/(1-p) ---
  virtual void dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset,
                               Tensor& y) = 0;
  virtual void dropout_backward(const Tensor& dy, double p, uint64_t seed, uint64_t offset,
                                Tensor& dx) = 0;

  // --- sinusoidal timestep embedding: t [N] -> emb [N, dim] (DDPM layout [sin | cos]) ---
  virtual void timestep_embedding_forward(const Tensor& t, int64_t dim, Tensor& emb) = 0;
  virtual void timestep_embedding_backward(const Tensor& t, int64_t dim, const Tensor& demb,
                                           Tensor& dt) = 0;

  // --- random fills (kernels/philox.h defines the stream) ---
  virtual void fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) = 0;
  virtual void fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                           double stddev) = 0;

  // --- optimizer over flat buffers (same shape) ---
  virtual void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                         const AdamParams& p) = 0;
  // ema = decay * ema + (1 - decay) * param
  virtual void ema_update(Tensor& ema, const Tensor& param, double decay) = 0;
  // adam_step, then ema_update from the updated param, in one pass over memory with the same
  // per-element arithmetic, so the results equal those of the two calls bit for bit.
  virtual void adam_ema_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, Tensor& ema,
                             const AdamParams& p, double ema_decay) = 0;

  // --- fused S²-DM loss: out, eps1, eps2 [B, ...] (P elements per sample); c, w0, wskip [B] ---
  // In one pass over the inputs, with s = inv_reduce (1/P for the mean over a sample, 1 for the
  // sum): l0[b] = s·Σ(eps1 − out)², lskip[b] = s·Σ(eps2 − c·out)², loss (one element)
  // = (1/B)·Σ_b (w0·l0 + wskip·lskip), and dout = ∂loss/∂out
  // = (2s/B)·(w0·(out − eps1) + wskip·c·(c·out − eps2)); dout may be undefined when not wanted.
  virtual void skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                         const Tensor& c, const Tensor& w0, const Tensor& wskip,
                         double inv_reduce, Tensor& l0, Tensor& lskip, Tensor& loss,
                         Tensor& dout) = 0;
};

// TF32 tensor-core math for float32 matrix products and convolutions on the GPU: on by default
// (10-bit mantissa products, float32 accumulation), off for full float32 (`--no-tf32`). CPU and
// float64 work ignore it. Read when an op runs, so it may change between steps.
void set_tf32_enabled(bool enabled);
bool tf32_enabled();

// The most bytes of [B,N,M] attention scores a device backend may materialise to run attention as
// batched matrix products plus a softmax (the fast path on a GPU); larger problems, or a limit of
// 0, take the streaming (flash-style) kernels, whose memory does not grow with N·M. The CPU
// backend ignores it. Default 1 GiB.
void set_attention_scores_limit(size_t bytes);
size_t attention_scores_limit();

// Every compute method of Backend by name (memory and copies to and from the host excepted), in
// declaration order. The backend-ops harness (tests/backend_ops/) checks that each one has
// parity cases; a new method goes here and gets cases there.
inline constexpr const char* kBackendOpNames[] = {
    "fill", "copy", "unary", "unary_backward", "binary", "scalar", "axpy", "sum_to",
    "sum_squares", "gemm", "conv2d_forward", "conv2d_backward", "group_norm_forward",
    "group_norm_backward", "softmax_forward", "softmax_backward", "attention_forward",
    "attention_backward", "attention_channels_first_forward", "attention_channels_first_backward",
    "upsample_nearest2x_forward", "upsample_nearest2x_backward",
    "pad2d_forward", "pad2d_backward", "dropout_forward", "dropout_backward",
    "timestep_embedding_forward", "timestep_embedding_backward", "fill_uniform", "fill_normal",
    "adam_step", "ema_update", "adam_ema_step", "skip_loss"};

// The backend for a device; throws s2dm::Error when that device's backend is not available.
Backend& backend_for(Device device);
inline Backend& backend_of(const Tensor& t) { return backend_for(t.device()); }
// Called once by a backend's translation unit (the CUDA backend registers itself when built).
// Registering another backend for CUDA replaces cuda:0's (benchmarks wrap it in a profiler).
void register_backend(DeviceType type, Backend* backend);

}  // namespace s2dm
