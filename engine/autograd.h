// Reverse-mode, define-by-run autograd.
//
// Each differentiable op that sees an input requiring grad records a Node on its output. A Node
// owns the tensors its backward needs (saved detached, so the graph has no cycles) and one Edge per
// differentiable input. backward() runs the nodes in reverse topological order, sums the gradients
// arriving at each node, and calls release() on a node as soon as it has run so saved tensors are
// freed while backward proceeds. Leaves accumulate into .grad (+=) across backward calls.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

struct Edge {
  std::shared_ptr<Node> fn;  // null: the input needs no gradient
};

struct Node {
  std::vector<Edge> next;
  virtual ~Node() = default;
  virtual const char* name() const = 0;
  // One gradient per entry of `next` (undefined where not needed).
  virtual std::vector<Tensor> backward(const Tensor& grad_out) = 0;
  // Drops saved tensors; called once backward of this node has run.
  virtual void release() {}
};

// Accumulates into a leaf's .grad.
struct AccumulateGrad final : Node {
  std::shared_ptr<TensorImpl> leaf;
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> l) : leaf(std::move(l)) {}
  const char* name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> backward(const Tensor& grad_out) override;
};

// Gradient recording is on by default; NoGradGuard turns it off for a scope (sampling, optimizers).
struct GradMode {
  static bool enabled();
  static void set_enabled(bool on);
};

class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when grad mode is on and any defined input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);

// Attaches `node` to `out` with one edge per input (undefined inputs get empty edges).
// Call only when needs_grad(inputs) is true.
void record(Tensor& out, std::shared_ptr<Node> node, std::initializer_list<Tensor> inputs);
void record(Tensor& out, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs);

// Runs backward from `root` seeded with `seed` (same shape as root).
void run_backward(const Tensor& root, const Tensor& seed);

// Called during run_backward once a leaf's gradient is final for this pass: every AccumulateGrad
// node of that leaf in the graph has run (a leaf used twice has two). Data-parallel training
// starts the all-reduce of a gradient bucket from here while backward goes on. One hook per
// thread; an empty function removes it.
using LeafGradHook = std::function<void(const TensorImpl* leaf)>;
void set_leaf_grad_hook(LeafGradHook hook);

}  // namespace s2dm
