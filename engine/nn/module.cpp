// Module tree traversal, state dicts and train/eval mode.
#include "engine/nn/module.h"

#include <set>

#include "engine/autograd.h"
#include "engine/error.h"

namespace s2dm {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  S2DM_CHECK(value.defined(), "parameter {} is undefined", name);
  Tensor p = value.detach();
  p.set_requires_grad(true);
  params_.emplace_back(name, p);
  return p;
}

void Module::collect(const std::string& prefix,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, p] : params_) out.emplace_back(prefix + name, p);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, p] : named_parameters()) out.emplace(name, p.detach());
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NoGradGuard no_grad;
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (auto& [name, p] : named_parameters()) {
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
      continue;
    }
    S2DM_CHECK(it->second.shape() == p.shape(), "state dict entry {} has shape {}, the model expects {}",
               name, shape_str(it->second.shape()), shape_str(p.shape()));
    Tensor dst = p;
    dst.copy_(it->second);
    used.insert(name);
  }
  if (!strict) return;
  std::string unexpected;
  for (auto& [name, t] : state)
    if (!used.count(name)) unexpected += (unexpected.empty() ? "" : ", ") + name;
  std::string miss;
  for (auto& m : missing) miss += (miss.empty() ? "" : ", ") + m;
  S2DM_CHECK(missing.empty() && unexpected.empty(),
             "state dict does not match the model: missing [{}], unexpected [{}] (wrong model "
             "config or a checkpoint of another model?)", miss, unexpected);
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

}  // namespace s2dm
