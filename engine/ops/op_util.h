// Shared helpers for op implementations (not part of the public API).
#pragma once
#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/tensor.h"

namespace s2dm::detail {

inline Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }
inline Tensor empty_as(const Tensor& x, const Shape& s) { return Tensor::empty(s, x.dtype(), x.device()); }

// Checks that every defined tensor shares a's dtype and device (ops never convert silently).
inline void check_compatible(const char* op, std::initializer_list<Tensor> ts) {
  const Tensor* first = nullptr;
  for (const Tensor& t : ts) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      S2DM_CHECK(t.dtype() != DType::BF16, "{}: bfloat16 is a storage type; convert {} to float32",
                 op, t.str());
      continue;
    }
    S2DM_CHECK(t.dtype() == first->dtype() && t.device() == first->device(),
               "{}: operands differ in dtype or device: {} vs {}", op, first->str(), t.str());
  }
}

// Contiguous data without autograd history, for handing to a backend or saving in a Node.
inline Tensor data_of(const Tensor& t) { return t.defined() ? t.detach().contiguous() : t; }

}  // namespace s2dm::detail
