// Module: a tree of named parameters and submodules, PyTorch-style.
//
// Names are dotted paths from the root in registration order ("down.0.block.1.norm1.weight"),
// which is what state dicts and safetensors checkpoints are keyed by. Parameters are leaf tensors
// that require grad; Tensor handles share their TensorImpl, so rebinding a parameter's storage
// (FlatParameters) is seen by the module that owns it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;
  // Detached views of the parameters, keyed by name.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in by name. Strict: every parameter must be present with the same shape, and no
  // unknown names; errors list what is missing or unexpected.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  void train(bool on = true);
  bool is_training() const { return training_; }
  // Clears .grad of every parameter.
  void zero_grad();

 protected:
  // Registers a leaf parameter (requires_grad is set) and returns the stored handle.
  Tensor register_parameter(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// An indexed list of submodules named "0", "1", ... (PyTorch nn.ModuleList).
class ModuleList : public Module {
 public:
  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    items_.push_back(m);
    return register_module(std::to_string(items_.size() - 1), std::move(m));
  }
  size_t size() const { return items_.size(); }
  Module& operator[](size_t i) const { return *items_.at(i); }
  template <typename M>
  M& at(size_t i) const { return dynamic_cast<M&>(*items_.at(i)); }

 private:
  std::vector<std::shared_ptr<Module>> items_;
};

}  // namespace s2dm
