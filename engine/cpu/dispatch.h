// dtype -> C++ type dispatch for CPU loops. BF16 is storage only: compute ops reject it.
// Usage: cpu::dispatch_float(x.dtype(), [&](auto tag) { using T = decltype(tag); ... });
// (a lambda rather than a macro so OpenMP pragmas can sit inside the body).
#pragma once
#include "engine/error.h"
#include "engine/tensor.h"

namespace s2dm::cpu {

template <typename F>
void dispatch_float(DType dt, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); return;
    case DType::F64: f(double{}); return;
    default:
      fail("{} is a storage type here; convert to float32 before computing", dtype_name(dt));
  }
}

}  // namespace s2dm::cpu
