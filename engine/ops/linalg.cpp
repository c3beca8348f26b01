// matmul and linear on top of the backend's batched GEMM.
#include "engine/ops/linalg.h"

#include "engine/ops/elementwise.h"
#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"

namespace s2dm {

namespace {

Tensor as3d(const Tensor& t) { return t.dim() == 2 ? t.reshape({1, t.size(0), t.size(1)}) : t; }

// c = op(a) @ op(b) on 3-D data tensors (no autograd).
Tensor gemm3(const Tensor& a, bool ta, const Tensor& b, bool tb) {
  const int64_t batch = std::max(a.size(0), b.size(0));
  const int64_t m = ta ? a.size(2) : a.size(1), n = tb ? b.size(1) : b.size(2);
  Tensor c = detail::empty_as(a, {batch, m, n});
  backend_of(a).gemm(a, ta, b, tb, c, 1.0, 0.0);
  return c;
}

struct MatmulBackward final : Node {
  Tensor a, b;  // 3-D data
  Shape a_shape, b_shape;
  const char* name() const override { return "MatmulBackward"; }
  void release() override { a = b = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    Tensor g = as3d(detail::data_of(g_in));
    Tensor ga, gb;
    if (next[0].fn) {  // dA = dC Bᵀ, summed over the batch when A was shared
      ga = gemm3(g, false, b, true);
      if (a.size(0) == 1 && ga.size(0) > 1) ga = sum(ga, {0}, true);
      ga = ga.reshape(a_shape);
    }
    if (next[1].fn) {  // dB = Aᵀ dC
      gb = gemm3(a, true, g, false);
      if (b.size(0) == 1 && gb.size(0) > 1) gb = sum(gb, {0}, true);
      gb = gb.reshape(b_shape);
    }
    return {ga, gb};
  }
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::check_compatible("matmul", {a, b});
  S2DM_CHECK((a.dim() == 2 || a.dim() == 3) && (b.dim() == 2 || b.dim() == 3),
             "matmul takes 2-D or 3-D operands, got {} and {}", a.str(), b.str());
  Tensor a3 = as3d(detail::data_of(a)), b3 = as3d(detail::data_of(b));
  S2DM_CHECK(a3.size(2) == b3.size(1), "matmul: inner dimensions differ: {} @ {}", a.str(), b.str());
  S2DM_CHECK(a3.size(0) == b3.size(0) || a3.size(0) == 1 || b3.size(0) == 1,
             "matmul: batch sizes differ: {} @ {}", a.str(), b.str());
  Tensor c = gemm3(a3, false, b3, false);
  if (a.dim() == 2 && b.dim() == 2) c = c.reshape({c.size(1), c.size(2)});
  if (needs_grad({a, b})) {
    auto n = std::make_shared<MatmulBackward>();
    n->a = a3;
    n->b = b3;
    n->a_shape = a.shape();
    n->b_shape = b.shape();
    record(c, n, {a, b});
  }
  return c;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  S2DM_CHECK(w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1),
             "linear: input {} does not match weight {} (expects [..., {}])", x.str(), w.str(),
             w.dim() == 2 ? w.size(1) : -1);
  Shape out_shape = x.shape();
  out_shape.back() = w.size(0);
  Tensor x2 = x.reshape({-1, w.size(1)});
  Tensor y = matmul(x2, w.transpose(0, 1));
  if (bias.defined()) {
    S2DM_CHECK(bias.dim() == 1 && bias.size(0) == w.size(0), "linear: bias {} for weight {}",
               bias.str(), w.str());
    y = add(y, bias);
  }
  return y.reshape(out_shape);
}

}  // namespace s2dm
