// FlatParameters: every parameter of a module packed into one contiguous value buffer, and every
// gradient into one gradient buffer, so that a step is one all-reduce, one norm and one fused
// optimizer update.
//
// Invariants: after construction each parameter is a view into values() (its TensorImpl is
// rebound in place, so the module sees the same tensors) and its .grad is the matching view into
// grads(). Backward accumulates into those views in place; zero_grad() zero-fills grads() and
// never drops the views. Order = module.named_parameters() order.
#pragma once
#include <string>
#include <vector>

#include "engine/nn/module.h"

namespace s2dm {

class FlatParameters {
 public:
  explicit FlatParameters(const Module& module);
  Tensor& values() { return values_; }
  Tensor& grads() { return grads_; }
  const Tensor& values() const { return values_; }
  const Tensor& grads() const { return grads_; }
  int64_t numel() const { return values_.numel(); }
  const std::vector<std::pair<std::string, Tensor>>& named() const { return named_; }
  // Offsets of each parameter inside the flat buffers, in named() order.
  const std::vector<int64_t>& offsets() const { return offsets_; }

  void zero_grad();
  // Σ g² over all gradients as one float64 element on their device, left there (the optimizer
  // clips by it without a host read).
  Tensor grad_sq() const;
  // L2 norm of all gradients together (computed in double); reads grad_sq() back.
  double grad_norm() const;
  // A view of `flat` (same layout as values()) shaped like parameter i.
  Tensor view_of(const Tensor& flat, size_t i) const;

 private:
  Tensor values_, grads_;
  std::vector<std::pair<std::string, Tensor>> named_;
  std::vector<int64_t> offsets_;
};

}  // namespace s2dm
