// KernelBackend: single-head attention on kernels/attention.cu, or on products around the
// softmax kernel (softmax_rows_with_lse, engine/kernel_backend/softmax.cpp).
//
// Attention has two paths. When the [B,N,M] scores fit attention_scores_limit(), it runs as
// batched matrix products (the backend's gemm: cuBLAS on a GPU) around the softmax kernel, which
// is several times faster than the streaming kernels at the UNet's sizes (N = M = 256, C = 256:
// the products run on tensor cores, the scores are 32 MiB per batch of 128). Otherwise it runs the
// streaming (flash-style) kernels, whose memory does not grow with N·M.
#include "engine/attention_transposed.h"
#include "engine/cpu/dispatch.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/attention.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

kernels::AttentionShape attention_shape(const Tensor& q, const Tensor& k, const Tensor& v) {
  S2DM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && k.size(0) == q.size(0) &&
                 v.size(0) == q.size(0) && k.size(2) == q.size(2) && v.size(1) == k.size(1),
             "attention: inconsistent shapes q {} k {} v {}", q.str(), k.str(), v.str());
  const kernels::AttentionShape sh{q.size(0), q.size(1), k.size(1), q.size(2), v.size(2)};
  S2DM_CHECK(sh.m > 0 || sh.n == 0, "attention: {} queries but no keys", sh.n);
  return sh;
}

void check_shape(const Tensor& t, const Shape& expect, const char* what) {
  S2DM_CHECK(t.shape() == expect, "attention: {} is {}, expected {}", what, t.str(),
             shape_str(expect));
}

template <typename T>
T* out_or_null(Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

bool scores_fit(const kernels::AttentionShape& sh, DType dtype) {
  const double bytes = static_cast<double>(sh.b) * static_cast<double>(sh.n) *
                       static_cast<double>(sh.m) * static_cast<double>(dtype_size(dtype));
  return bytes <= static_cast<double>(attention_scores_limit());
}

}  // namespace

void KernelBackend::attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                      double scale, Tensor& o, Tensor& lse) {
  require_contiguous("attention_forward", {&q, &k, &v, &o, &lse});
  const kernels::AttentionShape sh = attention_shape(q, k, v);
  check_shape(o, {sh.b, sh.n, sh.d}, "o");
  check_shape(lse, {sh.b, sh.n}, "lse");
  if (sh.n > 0 && scores_fit(sh, q.dtype())) {
    // p = softmax(scale·q kᵀ) in place in the scores, with lse; then o = p v.
    Tensor p = Tensor::empty({sh.b, sh.n, sh.m}, q.dtype(), device());
    gemm(q, false, k, true, p, scale, 0.0);
    softmax_rows_with_lse(p, lse);
    gemm(p, false, v, false, o, 1.0, 0.0);
    return;
  }
  cudaStream_t s = begin();
  cpu::dispatch_float(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_attention_forward<T>(q.data<T>(), k.data<T>(), v.data<T>(), sh, scale,
                                         o.data<T>(), lse.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                       const Tensor& o, const Tensor& lse, const Tensor& d_o,
                                       double scale, Tensor& dq, Tensor& dk, Tensor& dv) {
  require_contiguous("attention_backward", {&q, &k, &v, &o, &lse, &d_o});
  require_contiguous_if_defined("attention_backward", {&dq, &dk, &dv});
  const kernels::AttentionShape sh = attention_shape(q, k, v);
  check_shape(o, {sh.b, sh.n, sh.d}, "o");
  check_shape(d_o, {sh.b, sh.n, sh.d}, "d_o");
  check_shape(lse, {sh.b, sh.n}, "lse");
  if (dq.defined()) check_shape(dq, q.shape(), "dq");
  if (dk.defined()) check_shape(dk, k.shape(), "dk");
  if (dv.defined()) check_shape(dv, v.shape(), "dv");
  if (sh.n > 0 && scores_fit(sh, q.dtype())) {
    attention_backward_by_gemm(q, k, v, d_o, scale, dq, dk, dv);
    return;
  }
  Tensor work;
  if (dq.defined() || dk.defined())
    work = Tensor::empty({kernels::attention_backward_workspace(sh)}, q.dtype(), device());
  cudaStream_t s = begin();
  cpu::dispatch_float(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_attention_backward<T>(q.data<T>(), k.data<T>(), v.data<T>(), o.data<T>(),
                                          lse.data<T>(), d_o.data<T>(), sh, scale,
                                          out_or_null<T>(dq), out_or_null<T>(dk),
                                          out_or_null<T>(dv), out_or_null<T>(work), s);
  });
  check_launch();
}

// Channel-first: q [B,C,N], k [B,C,M], v [B,D,M], o [B,D,N]. The same products as above with the
// operands' transposes folded into the gemm calls, so the layout costs no copies.
void KernelBackend::attention_channels_first_forward(const Tensor& q, const Tensor& k,
                                                     const Tensor& v, double scale, Tensor& o,
                                                     Tensor& lse) {
  require_contiguous("attention_channels_first_forward", {&q, &k, &v, &o, &lse});
  S2DM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && k.size(0) == q.size(0) &&
                 v.size(0) == q.size(0) && k.size(1) == q.size(1) && v.size(2) == k.size(2),
             "attention (channels first): inconsistent shapes q {} k {} v {}", q.str(), k.str(),
             v.str());
  const kernels::AttentionShape sh{q.size(0), q.size(2), k.size(2), q.size(1), v.size(1)};
  check_shape(o, {sh.b, sh.d, sh.n}, "o");
  check_shape(lse, {sh.b, sh.n}, "lse");
  if (sh.n == 0 || !scores_fit(sh, q.dtype()))
    return attention_channels_first_by_transposes_forward(*this, q, k, v, scale, o, lse);
  S2DM_CHECK(sh.m > 0, "attention: {} queries but no keys", sh.n);
  Tensor p = Tensor::empty({sh.b, sh.n, sh.m}, q.dtype(), device());
  gemm(q, true, k, false, p, scale, 0.0);  // scale·qᵀk
  softmax_rows_with_lse(p, lse);
  gemm(v, false, p, true, o, 1.0, 0.0);  // v pᵀ = (p vᵀ)ᵀ
}

void KernelBackend::attention_channels_first_backward(const Tensor& q, const Tensor& k,
                                                      const Tensor& v, const Tensor& o,
                                                      const Tensor& lse, const Tensor& d_o,
                                                      double scale, Tensor& dq, Tensor& dk,
                                                      Tensor& dv) {
  require_contiguous("attention_channels_first_backward", {&q, &k, &v, &o, &lse, &d_o});
  require_contiguous_if_defined("attention_channels_first_backward", {&dq, &dk, &dv});
  S2DM_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && k.size(1) == q.size(1) &&
                 v.size(2) == k.size(2),
             "attention (channels first): inconsistent shapes q {} k {} v {}", q.str(), k.str(),
             v.str());
  const kernels::AttentionShape sh{q.size(0), q.size(2), k.size(2), q.size(1), v.size(1)};
  check_shape(d_o, {sh.b, sh.d, sh.n}, "d_o");
  if (dq.defined()) check_shape(dq, q.shape(), "dq");
  if (dk.defined()) check_shape(dk, k.shape(), "dk");
  if (dv.defined()) check_shape(dv, v.shape(), "dv");
  if (sh.n == 0 || !scores_fit(sh, q.dtype()))
    return attention_channels_first_by_transposes_backward(*this, q, k, v, o, lse, d_o, scale, dq,
                                                           dk, dv);
  const Shape scores{sh.b, sh.n, sh.m};
  Tensor p = Tensor::empty(scores, q.dtype(), device());
  gemm(q, true, k, false, p, scale, 0.0);
  Tensor no_lse;
  softmax_rows_with_lse(p, no_lse);
  if (dv.defined()) gemm(d_o, false, p, false, dv, 1.0, 0.0);  // dOᵀ p
  if (!dq.defined() && !dk.defined()) return;
  Tensor ds = Tensor::empty(scores, q.dtype(), device());
  gemm(d_o, true, v, false, ds, 1.0, 0.0);  // dp = dO vᵀ
  softmax_backward(p, ds, ds);
  if (dq.defined()) gemm(k, false, ds, true, dq, scale, 0.0);  // (ds k)ᵀ
  if (dk.defined()) gemm(q, false, ds, false, dk, scale, 0.0);  // (dsᵀ q)ᵀ
}

// The probabilities are recomputed (one product and a softmax, cheaper than keeping [B,N,M] from
// forward), then dv = pᵀ dO, dp = dO vᵀ, ds = p ⊙ (dp − rowsum(dp ⊙ p)) in place in dp,
// dq = scale·ds k and dk = scale·dsᵀ q.
void KernelBackend::attention_backward_by_gemm(const Tensor& q, const Tensor& k, const Tensor& v,
                                               const Tensor& d_o, double scale, Tensor& dq,
                                               Tensor& dk, Tensor& dv) {
  const Shape scores{q.size(0), q.size(1), k.size(1)};
  Tensor p = Tensor::empty(scores, q.dtype(), device());
  gemm(q, false, k, true, p, scale, 0.0);
  Tensor no_lse;
  softmax_rows_with_lse(p, no_lse);
  if (dv.defined()) gemm(p, true, d_o, false, dv, 1.0, 0.0);
  if (!dq.defined() && !dk.defined()) return;
  Tensor ds = Tensor::empty(scores, q.dtype(), device());
  gemm(d_o, false, v, true, ds, 1.0, 0.0);
  softmax_backward(p, ds, ds);
  if (dq.defined()) gemm(ds, false, k, false, dq, scale, 0.0);
  if (dk.defined()) gemm(ds, true, q, false, dk, scale, 0.0);
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
