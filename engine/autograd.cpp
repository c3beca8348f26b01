// The backward engine: reverse topological order over Nodes, gradient summation per node,
// saved tensors released as soon as a node has run.
#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/backend.h"
#include "engine/error.h"

namespace s2dm {

namespace {
thread_local bool g_grad_enabled = true;
thread_local LeafGradHook g_leaf_hook;

Edge edge_for(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  if (t.grad_fn()) return {t.grad_fn()};
  return {std::make_shared<AccumulateGrad>(t.impl())};
}

// a += b, allocating when a is undefined. Gradients are always contiguous here.
void accumulate(Tensor& a, const Tensor& b) {
  if (!b.defined()) return;
  if (!a.defined()) {
    a = b;
    return;
  }
  Tensor sum = Tensor::empty(a.shape(), a.dtype(), a.device());
  backend_of(a).copy(a, sum);
  backend_of(a).axpy(sum, 1.0, b.contiguous());
  a = sum;
}
}  // namespace

void set_leaf_grad_hook(LeafGradHook hook) { g_leaf_hook = std::move(hook); }

bool GradMode::enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool on) { g_grad_enabled = on; }

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

static void record_impl(Tensor& out, std::shared_ptr<Node> node, const Tensor* begin,
                        const Tensor* end) {
  node->next.clear();
  for (const Tensor* t = begin; t != end; ++t) node->next.push_back(edge_for(*t));
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}

void record(Tensor& out, std::shared_ptr<Node> node, std::initializer_list<Tensor> inputs) {
  record_impl(out, std::move(node), inputs.begin(), inputs.end());
}

void record(Tensor& out, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs) {
  record_impl(out, std::move(node), inputs.data(), inputs.data() + inputs.size());
}

std::vector<Tensor> AccumulateGrad::backward(const Tensor& g) {
  S2DM_CHECK(g.shape() == leaf->shape, "gradient shape {} does not match parameter shape {}",
             shape_str(g.shape()), shape_str(leaf->shape));
  Tensor gc = g.contiguous();
  if (!leaf->grad) {
    // Own the gradient: the incoming tensor may be shared with another node's output.
    Tensor copy = Tensor::empty(gc.shape(), leaf->dtype, gc.device());
    backend_of(gc).copy(gc, copy);
    leaf->grad = copy.impl();
  } else {
    Tensor acc(leaf->grad);
    backend_of(acc).axpy(acc, 1.0, gc);
  }
  return {};
}

void run_backward(const Tensor& root, const Tensor& seed) {
  S2DM_CHECK(root.requires_grad(), "backward() on a tensor that does not require grad");
  S2DM_CHECK(seed.shape() == root.shape(), "backward seed shape {} != output shape {}",
             shape_str(seed.shape()), shape_str(root.shape()));
  NoGradGuard no_grad;  // backward formulas are not themselves recorded
  std::shared_ptr<Node> start = root.grad_fn();
  if (!start) start = std::make_shared<AccumulateGrad>(root.impl());

  // Count, for every node, how many edges point at it, and for every leaf its AccumulateGrads.
  std::unordered_map<Node*, int> pending;
  std::unordered_map<const TensorImpl*, int> leaf_nodes;
  std::vector<Node*> stack{start.get()};
  std::unordered_set<Node*> seen{start.get()};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (g_leaf_hook)
      if (auto* acc = dynamic_cast<AccumulateGrad*>(n)) ++leaf_nodes[acc->leaf.get()];
    for (const Edge& e : n->next) {
      if (!e.fn) continue;
      ++pending[e.fn.get()];
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }

  std::unordered_map<Node*, Tensor> grads;
  grads[start.get()] = seed;
  std::vector<std::shared_ptr<Node>> ready{start};
  while (!ready.empty()) {
    std::shared_ptr<Node> n = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(grads[n.get()]);
    grads.erase(n.get());
    // A node whose every incoming gradient was undefined contributes nothing further.
    std::vector<Tensor> in_grads = g.defined() ? n->backward(g) : std::vector<Tensor>(n->next.size());
    n->release();
    if (g_leaf_hook)
      if (auto* acc = dynamic_cast<AccumulateGrad*>(n.get()); acc && --leaf_nodes[acc->leaf.get()] == 0)
        g_leaf_hook(acc->leaf.get());
    S2DM_CHECK(in_grads.size() == n->next.size() || n->next.empty(),
               "{} returned {} gradients for {} inputs", n->name(), in_grads.size(), n->next.size());
    for (size_t i = 0; i < n->next.size(); ++i) {
      const std::shared_ptr<Node>& next = n->next[i].fn;
      if (!next) continue;
      accumulate(grads[next.get()], in_grads[i]);
      if (--pending[next.get()] == 0) ready.push_back(next);
    }
  }
  // Free the graph below the root (like retain_graph=false): edges are dropped with the nodes.
  if (root.grad_fn()) root.grad_fn()->next.clear();
}

}  // namespace s2dm
