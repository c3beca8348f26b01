// Channel-first attention by transposes (engine/attention_transposed.h).
#include "engine/attention_transposed.h"

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

void attention_channels_first_by_transposes_forward(Backend& be, const Tensor& q, const Tensor& k,
                                                    const Tensor& v, double scale, Tensor& o,
                                                    Tensor& lse) {
  Tensor o_tokens = scratch_for(o);
  be.attention_forward(transposed(be, q), transposed(be, k), transposed(be, v), scale, o_tokens,
                       lse);
  be.copy(o_tokens.permute({0, 2, 1}), o);
}

void attention_channels_first_by_transposes_backward(Backend& be, const Tensor& q,
                                                     const Tensor& k, const Tensor& v,
                                                     const Tensor& o, const Tensor& lse,
                                                     const Tensor& d_o, double scale, Tensor& dq,
                                                     Tensor& dk, Tensor& dv) {
  Tensor dq_t = scratch_for(dq), dk_t = scratch_for(dk), dv_t = scratch_for(dv);
  be.attention_backward(transposed(be, q), transposed(be, k), transposed(be, v),
                        transposed(be, o), lse, transposed(be, d_o), scale, dq_t, dk_t, dv_t);
  if (dq.defined()) be.copy(dq_t.permute({0, 2, 1}), dq);
  if (dk.defined()) be.copy(dk_t.permute({0, 2, 1}), dk);
  if (dv.defined()) be.copy(dv_t.permute({0, 2, 1}), dv);
}

}  // namespace s2dm
