// Packing parameters and gradients into flat buffers.
#include "engine/nn/flat_parameters.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/error.h"

namespace s2dm {

FlatParameters::FlatParameters(const Module& module) : named_(module.named_parameters()) {
  S2DM_CHECK(!named_.empty(), "FlatParameters: the module has no parameters");
  const DType dtype = named_[0].second.dtype();
  const Device device = named_[0].second.device();
  int64_t total = 0;
  for (auto& [name, p] : named_) {
    S2DM_CHECK(p.dtype() == dtype && p.device() == device,
               "FlatParameters: parameter {} is {}, expected {} on {}", name, p.str(),
               dtype_name(dtype), device.str());
    offsets_.push_back(total);
    total += p.numel();
  }
  values_ = Tensor::empty({total}, dtype, device);
  grads_ = Tensor::zeros({total}, dtype, device);
  NoGradGuard no_grad;
  for (size_t i = 0; i < named_.size(); ++i) {
    Tensor& p = named_[i].second;
    Tensor slot = view_of(values_, i);
    slot.copy_(p);
    // Rebind the parameter's own TensorImpl so every handle (module members) sees the flat storage.
    TensorImpl& impl = *p.impl();
    impl.storage = slot.impl()->storage;
    impl.offset = slot.offset();
    impl.strides = slot.strides();
    impl.grad = view_of(grads_, i).impl();
  }
}

Tensor FlatParameters::view_of(const Tensor& flat, size_t i) const {
  const Tensor& p = named_.at(i).second;
  return make_view(flat, p.shape(), contiguous_strides(p.shape()),
                   flat.offset() + offsets_.at(i));
}

void FlatParameters::zero_grad() {
  grads_.fill_(0.0);
  // Re-attach views in case someone called Module::zero_grad() and dropped them.
  for (size_t i = 0; i < named_.size(); ++i)
    if (named_[i].second.impl()->grad.get() == nullptr ||
        named_[i].second.impl()->grad->storage != grads_.impl()->storage)
      named_[i].second.impl()->grad = view_of(grads_, i).impl();
}

Tensor FlatParameters::grad_sq() const {
  Tensor out = Tensor::empty({1}, DType::F64, grads_.device());
  backend_of(grads_).sum_squares(grads_, out);
  return out;
}

double FlatParameters::grad_norm() const { return std::sqrt(grad_sq().item()); }

}  // namespace s2dm
