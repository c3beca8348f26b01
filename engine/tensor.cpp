// Tensor construction, metadata, host access and the autograd-recorded view/copy ops.
#include "engine/tensor.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/error.h"

namespace s2dm {

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) {
  data = backend_for(d).allocate(n);
}

Storage::~Storage() {
  if (data) backend_for(device).deallocate(data, nbytes);
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Strides contiguous_strides(const Shape& s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

Tensor make_view(const Tensor& base, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(impl);
}

// ---------------------------------------------------------------- factories
Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) S2DM_CHECK(d >= 0, "negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(
      std::max<size_t>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), 1), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}
Tensor Tensor::zeros(const Shape& s, DType t, Device d) { return full(s, 0.0, t, d); }
Tensor Tensor::ones(const Shape& s, DType t, Device d) { return full(s, 1.0, t, d); }

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>(i);
  return from_vector(v, {n}, dtype, device);
}

namespace {
template <typename Src>
Tensor from_host(const std::vector<Src>& v, const Shape& shape, DType dtype, Device device) {
  S2DM_CHECK(static_cast<int64_t>(v.size()) == shape_numel(shape),
             "from_vector: {} values do not fill shape {}", v.size(), shape_str(shape));
  Tensor host = Tensor::empty(shape, std::is_same_v<Src, float> ? DType::F32 : DType::F64);
  std::copy(v.begin(), v.end(), host.data<Src>());
  if (dtype == host.dtype() && device.is_cpu()) return host;
  Tensor out = Tensor::empty(shape, dtype, device);
  out.copy_(host);
  return out;
}
}  // namespace

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s, DType t, Device d) {
  return from_host(v, s, t, d);
}
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s, DType t, Device d) {
  return from_host(v, s, t, d);
}

// ---------------------------------------------------------------- metadata
int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  S2DM_CHECK(d >= 0 && d < n, "dimension {} out of range for a {}-d tensor", d, n);
  return impl_->shape[static_cast<size_t>(d)];
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // nothing to lay out
  int64_t acc = 1;
  for (size_t i = impl_->shape.size(); i-- > 0;) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != acc) return false;
    acc *= impl_->shape[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return fmt::format("{}{} {}", dtype_name(dtype()), shape_str(shape()), device().str());
}

template <typename T>
T* Tensor::data() const {
  constexpr DType want = std::is_same_v<T, float>    ? DType::F32
                         : std::is_same_v<T, double> ? DType::F64
                                                     : DType::BF16;
  S2DM_CHECK(dtype() == want, "data<{}>() on a {} tensor", dtype_name(want), str());
  return static_cast<T*>(raw());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template uint16_t* Tensor::data<uint16_t>() const;

void* Tensor::raw() const {
  return static_cast<char*>(impl_->storage->data) +
         impl_->offset * static_cast<int64_t>(dtype_size(dtype()));
}

Tensor& Tensor::set_requires_grad(bool r) {
  S2DM_CHECK(!r || dtype() != DType::BF16, "bfloat16 tensors are storage only and cannot require grad");
  S2DM_CHECK(is_leaf(), "requires_grad can only be set on leaf tensors");
  impl_->requires_grad = r;
  return *this;
}

Tensor Tensor::detach() const {
  return make_view(*this, shape(), strides(), offset());
}

void Tensor::backward(const Tensor& seed) const {
  Tensor s = seed;
  if (!s.defined()) {
    S2DM_CHECK(numel() == 1, "backward() without a seed needs a one-element tensor, got {}", str());
    s = Tensor::ones(shape(), dtype(), device());
  }
  run_backward(*this, s);
}

// ---------------------------------------------------------------- host access, in-place
void Tensor::copy_(const Tensor& src) {
  S2DM_CHECK(src.shape() == shape(), "copy_: shape {} into {}", shape_str(src.shape()),
             shape_str(shape()));
  NoGradGuard no_grad;  // an in-place copy is never part of the graph
  if (src.device() == device()) {
    backend_of(*this).copy(src, *this);
    return;
  }
  // Across devices: stage as a contiguous tensor of the destination dtype.
  Tensor s = src.to(dtype()).contiguous();
  Tensor d = is_contiguous() ? *this : Tensor::empty(shape(), dtype(), device());
  if (s.device().is_cpu())
    backend_of(d).copy_from_host(d.raw(), s.raw(), d.nbytes());
  else
    backend_of(s).copy_to_host(d.raw(), s.raw(), d.nbytes());
  if (!is_contiguous()) backend_of(*this).copy(d, *this);
}

void Tensor::fill_(double value) {
  if (is_contiguous()) {
    backend_of(*this).fill(*this, value);
  } else {
    copy_(Tensor::full(shape(), value, dtype(), device()));
  }
}

std::vector<double> Tensor::to_vector() const {
  Tensor h = to(Device::cpu()).to(DType::F64).contiguous();
  const double* p = h.data<double>();
  return std::vector<double>(p, p + h.numel());
}

double Tensor::item() const {
  S2DM_CHECK(numel() == 1, "item() needs a one-element tensor, got {}", str());
  return to_vector()[0];
}

// ---------------------------------------------------------------- recorded views and copies
namespace {

struct ReshapeBackward final : Node {
  Shape in_shape;
  const char* name() const override { return "ReshapeBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.reshape(in_shape)}; }
};

struct PermuteBackward final : Node {
  std::vector<int64_t> inverse;
  const char* name() const override { return "PermuteBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.permute(inverse)}; }
};

struct SliceBackward final : Node {
  Shape in_shape;
  int64_t dim = 0, start = 0, end = 0;
  const char* name() const override { return "SliceBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = Tensor::zeros(in_shape, g.dtype(), g.device());
    Tensor part = dx.slice(dim, start, end);
    part.copy_(g);
    return {dx};
  }
};

struct ExpandBackward final : Node {
  Shape in_shape;
  const char* name() const override { return "ExpandBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override;
};

struct CopyBackward final : Node {  // contiguous(), clone(), to(dtype), to(device)
  DType dtype;
  Device device;
  const char* name() const override { return "CopyBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g.to(dtype).to(device)}; }
};

int64_t norm_dim(int64_t d, int64_t n) {
  if (d < 0) d += n;
  S2DM_CHECK(d >= 0 && d < n, "dimension {} out of range for a {}-d tensor", d, n);
  return d;
}

}  // namespace

// Sum g over the dims where the original shape had size 1 (or was missing).
std::vector<Tensor> ExpandBackward::backward(const Tensor& g) {
  const size_t lead = g.shape().size() - in_shape.size();
  Shape keep(g.shape().size(), 1);
  for (size_t i = 0; i < in_shape.size(); ++i) keep[lead + i] = in_shape[i];
  Tensor gc = g.contiguous();
  Tensor out = Tensor::empty(keep, g.dtype(), g.device());
  backend_of(g).sum_to(gc, out);
  return {out.view(in_shape)};
}

Tensor Tensor::view(const Shape& new_shape_in) const {
  S2DM_CHECK(is_contiguous(), "view() of a non-contiguous tensor {}; use reshape()", str());
  return reshape(new_shape_in);
}

Tensor Tensor::reshape(const Shape& new_shape_in) const {
  Shape ns = new_shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < ns.size(); ++i) {
    if (ns[i] == -1) {
      S2DM_CHECK(infer < 0, "reshape: more than one -1 in {}", shape_str(ns));
      infer = static_cast<int64_t>(i);
    } else {
      known *= ns[i];
    }
  }
  if (infer >= 0) {
    S2DM_CHECK(known > 0 && numel() % known == 0, "reshape: cannot infer -1 in {} for {}",
               shape_str(ns), str());
    ns[static_cast<size_t>(infer)] = numel() / known;
  }
  S2DM_CHECK(shape_numel(ns) == numel(), "reshape: {} has {} elements, shape {} has {}", str(),
             numel(), shape_str(ns), shape_numel(ns));
  Tensor src = is_contiguous() ? *this : contiguous();
  Tensor out = make_view(src, ns, contiguous_strides(ns), src.offset());
  if (needs_grad({*this})) {
    auto n = std::make_shared<ReshapeBackward>();
    n->in_shape = shape();
    record(out, n, {*this});
  }
  return out;
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  const int64_t n = dim();
  S2DM_CHECK(static_cast<int64_t>(dims.size()) == n, "permute: {} dims for a {}-d tensor",
             dims.size(), n);
  Shape s(dims.size());
  Strides st(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = norm_dim(dims[i], n);
    S2DM_CHECK(inverse[static_cast<size_t>(d)] < 0, "permute: dimension {} repeated", d);
    inverse[static_cast<size_t>(d)] = static_cast<int64_t>(i);
    s[i] = shape()[static_cast<size_t>(d)];
    st[i] = strides()[static_cast<size_t>(d)];
  }
  Tensor out = make_view(*this, s, st, offset());
  if (needs_grad({*this})) {
    auto node = std::make_shared<PermuteBackward>();
    node->inverse = inverse;
    record(out, node, {*this});
  }
  return out;
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
  std::vector<int64_t> p(static_cast<size_t>(dim()));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int64_t>(i);
  std::swap(p[static_cast<size_t>(norm_dim(a, dim()))], p[static_cast<size_t>(norm_dim(b, dim()))]);
  return permute(p);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  d = norm_dim(d, dim());
  const int64_t len = shape()[static_cast<size_t>(d)];
  S2DM_CHECK(0 <= start && start <= end && end <= len, "slice [{}, {}) out of range for dim {} of {}",
             start, end, d, str());
  Shape s = shape();
  s[static_cast<size_t>(d)] = end - start;
  Tensor out = make_view(*this, s, strides(), offset() + start * strides()[static_cast<size_t>(d)]);
  if (needs_grad({*this})) {
    auto node = std::make_shared<SliceBackward>();
    node->in_shape = shape();
    node->dim = d;
    node->start = start;
    node->end = end;
    record(out, node, {*this});
  }
  return out;
}

Tensor Tensor::expand(const Shape& target) const {
  S2DM_CHECK(target.size() >= shape().size(), "expand: {} to fewer dims {}", str(), shape_str(target));
  const size_t lead = target.size() - shape().size();
  Strides st(target.size(), 0);
  for (size_t i = 0; i < shape().size(); ++i) {
    const int64_t have = shape()[i], want = target[lead + i];
    S2DM_CHECK(have == want || have == 1, "cannot broadcast {} to {}", str(), shape_str(target));
    st[lead + i] = (have == want) ? strides()[i] : 0;
  }
  Tensor out = make_view(*this, target, st, offset());
  if (needs_grad({*this})) {
    auto node = std::make_shared<ExpandBackward>();
    node->in_shape = shape();
    record(out, node, {*this});
  }
  return out;
}

namespace {
Tensor recorded_copy(const Tensor& src, DType dtype, Device device) {
  Tensor out = Tensor::empty(src.shape(), dtype, device);
  out.copy_(src);
  if (needs_grad({src})) {
    auto node = std::make_shared<CopyBackward>();
    node->dtype = src.dtype();
    node->device = src.device();
    record(out, node, {src});
  }
  return out;
}
}  // namespace

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : recorded_copy(*this, dtype(), device());
}
Tensor Tensor::clone() const { return recorded_copy(*this, dtype(), device()); }
Tensor Tensor::to(DType t) const { return t == dtype() ? *this : recorded_copy(*this, t, device()); }
Tensor Tensor::to(Device d) const {
  return d == device() ? *this : recorded_copy(*this, dtype(), d);
}

}  // namespace s2dm
