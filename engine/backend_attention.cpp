// Backend's channel-first attention: the token-layout ops with transposes around them. Backends
// whose attention is built from products (KernelBackend) override it to transpose nothing.
#include "engine/backend.h"

namespace s2dm {

namespace {

// t [B,R,S] as a new contiguous [B,S,R], copied by `be`.
Tensor transposed(Backend& be, const Tensor& t) {
  Tensor out = Tensor::empty({t.size(0), t.size(2), t.size(1)}, t.dtype(), t.device());
  be.copy(t.permute({0, 2, 1}), out);
  return out;
}

// A [B,S,R] scratch for an output whose channel-first form is t [B,R,S]; none when t has none.
Tensor scratch_for(const Tensor& t) {
  return t.defined() ? Tensor::empty({t.size(0), t.size(2), t.size(1)}, t.dtype(), t.device())
                     : Tensor();
}

}  // namespace

void Backend::attention_channels_first_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                               double scale, Tensor& o, Tensor& lse) {
  Tensor o_tokens = scratch_for(o);
  attention_forward(transposed(*this, q), transposed(*this, k), transposed(*this, v), scale,
                    o_tokens, lse);
  copy(o_tokens.permute({0, 2, 1}), o);
}

void Backend::attention_channels_first_backward(const Tensor& q, const Tensor& k,
                                                const Tensor& v, const Tensor& o,
                                                const Tensor& lse, const Tensor& d_o,
                                                double scale, Tensor& dq, Tensor& dk,
                                                Tensor& dv) {
  Tensor dq_t = scratch_for(dq), dk_t = scratch_for(dk), dv_t = scratch_for(dv);
  attention_backward(transposed(*this, q), transposed(*this, k), transposed(*this, v),
                     transposed(*this, o), lse, transposed(*this, d_o), scale, dq_t, dk_t, dv_t);
  if (dq.defined()) copy(dq_t.permute({0, 2, 1}), dq);
  if (dk.defined()) copy(dk_t.permute({0, 2, 1}), dk);
  if (dv.defined()) copy(dv_t.permute({0, 2, 1}), dv);
}

}  // namespace s2dm
