// Elementwise ops and their backward formulas.
#include "engine/ops/elementwise.h"

#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"

namespace s2dm {

using detail::data_of;
using detail::empty_like;

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    S2DM_CHECK(da == db || da == 1 || db == 1, "shapes {} and {} do not broadcast", shape_str(a),
               shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

struct BinaryBackward final : Node {
  BinaryOp op;
  Shape a_shape, b_shape;
  Tensor a, b;  // saved only for Mul/Div
  const char* name() const override { return "BinaryBackward"; }
  void release() override { a = b = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    const bool want_a = next[0].fn != nullptr, want_b = next[1].fn != nullptr;
    switch (op) {
      case BinaryOp::Add:
        if (want_a) ga = g;
        if (want_b) gb = g;
        break;
      case BinaryOp::Sub:
        if (want_a) ga = g;
        if (want_b) gb = neg(g);
        break;
      case BinaryOp::Mul:
        if (want_a) ga = mul(g, b);
        if (want_b) gb = mul(g, a);
        break;
      case BinaryOp::Div:  // d(a/b) = g/b, -g a / b²
        if (want_a) ga = div(g, b);
        if (want_b) gb = neg(div(mul(g, a), mul(b, b)));
        break;
    }
    if (ga.defined()) ga = sum_to_shape(ga, a_shape);
    if (gb.defined()) gb = sum_to_shape(gb, b_shape);
    return {ga, gb};
  }
};

Tensor binary_op(BinaryOp op, const Tensor& a, const Tensor& b) {
  detail::check_compatible("elementwise op", {a, b});
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = detail::empty_as(a, out_shape);
  backend_of(a).binary(op, a.detach().expand(out_shape), b.detach().expand(out_shape), out);
  if (needs_grad({a, b})) {
    auto n = std::make_shared<BinaryBackward>();
    n->op = op;
    n->a_shape = a.shape();
    n->b_shape = b.shape();
    if (op == BinaryOp::Mul || op == BinaryOp::Div) {
      n->a = a.detach();
      n->b = b.detach();
    }
    record(out, n, {a, b});
  }
  return out;
}

struct ScalarBackward final : Node {
  ScalarOp op;
  double s = 0;
  Tensor x;  // saved for Pow/RDiv
  const char* name() const override { return "ScalarBackward"; }
  void release() override { x = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    switch (op) {
      case ScalarOp::Add: return {g};
      case ScalarOp::Mul: return {mul_scalar(g, s)};
      case ScalarOp::RSub: return {neg(g)};
      case ScalarOp::Pow: return {mul(g, mul_scalar(pow_scalar(x, s - 1), s))};
      case ScalarOp::RDiv: return {neg(mul(g, mul_scalar(rdiv_scalar(square(x), 1.0), s)))};
    }
    return {Tensor()};
  }
};

Tensor scalar_op(ScalarOp op, const Tensor& x, double s) {
  detail::check_compatible("scalar op", {x});
  Tensor xc = data_of(x);
  Tensor out = empty_like(xc);
  backend_of(x).scalar(op, xc, s, out);
  if (needs_grad({x})) {
    auto n = std::make_shared<ScalarBackward>();
    n->op = op;
    n->s = s;
    if (op == ScalarOp::Pow || op == ScalarOp::RDiv) n->x = xc;
    record(out, n, {x});
  }
  return out;
}

struct UnaryBackward final : Node {
  UnaryOp op;
  Tensor x;
  const char* name() const override { return "UnaryBackward"; }
  void release() override { x = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g);
    if (op == UnaryOp::Neg) return {neg(gc)};
    Tensor dx = empty_like(gc);
    backend_of(gc).unary_backward(op, x, gc, dx);
    return {dx};
  }
};

Tensor unary_op(UnaryOp op, const Tensor& x) {
  detail::check_compatible("unary op", {x});
  Tensor xc = data_of(x);
  Tensor out = empty_like(xc);
  backend_of(x).unary(op, xc, out);
  if (needs_grad({x})) {
    auto n = std::make_shared<UnaryBackward>();
    n->op = op;
    n->x = xc;
    record(out, n, {x});
  }
  return out;
}

struct ClampBackward final : Node {
  double lo = 0, hi = 0;
  Tensor x;
  const char* name() const override { return "ClampBackward"; }
  void release() override { x = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gc = data_of(g);
    Tensor dx = empty_like(gc);
    backend_of(gc).clamp_backward(x, lo, hi, gc, dx);
    return {dx};
  }
};

}  // namespace

Tensor clamp(const Tensor& x, double lo, double hi) {
  detail::check_compatible("clamp", {x});
  S2DM_CHECK(!(lo > hi), "clamp: the lower bound {} is above the upper bound {}", lo, hi);
  Tensor xc = data_of(x);
  Tensor out = empty_like(xc);
  backend_of(x).clamp(xc, lo, hi, out);
  if (needs_grad({x})) {
    auto n = std::make_shared<ClampBackward>();
    n->lo = lo;
    n->hi = hi;
    n->x = xc;
    record(out, n, {x});
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Div, a, b); }

Tensor add_scalar(const Tensor& x, double s) { return scalar_op(ScalarOp::Add, x, s); }
Tensor mul_scalar(const Tensor& x, double s) { return scalar_op(ScalarOp::Mul, x, s); }
Tensor pow_scalar(const Tensor& x, double s) { return scalar_op(ScalarOp::Pow, x, s); }
Tensor rsub_scalar(const Tensor& x, double s) { return scalar_op(ScalarOp::RSub, x, s); }
Tensor rdiv_scalar(const Tensor& x, double s) { return scalar_op(ScalarOp::RDiv, x, s); }

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::Sqrt, x); }
Tensor square(const Tensor& x) { return unary_op(UnaryOp::Square, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(UnaryOp::Sigmoid, x); }
Tensor silu(const Tensor& x) { return unary_op(UnaryOp::Silu, x); }

}  // namespace s2dm
