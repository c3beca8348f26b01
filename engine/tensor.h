// Tensor: a shared handle on (storage, shape, strides, offset, dtype) plus autograd state.
//
// Invariants:
// - Views (reshape of contiguous data, permute, slice, expand) share storage with their base.
// - Strides and offsets count elements, not bytes.
// - A tensor that requires grad and has no grad_fn is a leaf; backward() accumulates into its grad.
// - Ops never modify their inputs; the only in-place writers are optimizers and grad accumulation,
//   both outside the recorded graph.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"

namespace s2dm {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

struct Node;

// A block of memory on one device, freed by the backend that allocated it.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
};

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
Strides contiguous_strides(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- factories ---
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::cpu());
  static Tensor arange(int64_t n, DType dtype = DType::F32, Device device = Device::cpu());
  // Copies host values (converted to dtype) into a new tensor of the given shape.
  static Tensor from_vector(const std::vector<float>& v, const Shape& shape,
                            DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<double>& v, const Shape& shape,
                            DType dtype = DType::F64, Device device = Device::cpu());

  // --- metadata ---
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Strides& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  bool is_contiguous() const;
  std::string str() const;  // "float32[2, 3] cpu" for messages

  // Pointer to the first element (storage + offset). T must match dtype (checked).
  template <typename T>
  T* data() const;
  void* raw() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  // --- autograd ---
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& set_requires_grad(bool r);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  void zero_grad() { impl_->grad.reset(); }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  // Backpropagate from this tensor; without an argument it must hold one element (seed 1).
  void backward(const Tensor& seed = Tensor()) const;
  // Same storage, no autograd history.
  Tensor detach() const;

  // --- views and copies (recorded by autograd) ---
  Tensor reshape(const Shape& shape) const;  // view when contiguous, else copy; one -1 allowed
  Tensor view(const Shape& shape) const;     // requires contiguous data
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end) const;
  Tensor expand(const Shape& shape) const;  // broadcast view (stride 0)
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // --- host access ---
  std::vector<double> to_vector() const;  // any dtype/device/layout, row-major order
  double item() const;

  // In-place, outside autograd (optimizers, initialisation, tests).
  void copy_(const Tensor& src);  // same shape; converts dtype, crosses devices
  void fill_(double value);

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Creates a view sharing storage (no autograd). Used by ops and tests.
Tensor make_view(const Tensor& base, Shape shape, Strides strides, int64_t offset);

}  // namespace s2dm
