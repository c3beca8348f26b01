// Cases: unary ops and clamp with their derivatives, binary ops on dense, broadcast and transposed operands,
// scalar ops and axpy, at UNet activation shapes and odd sizes.
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "tests/backend_ops/cases.h"
#include "tests/hashed_values.h"

namespace s2dm::backend_ops {

namespace {

const Shape kShapes[] = {
    {2, 128, 32, 32},  // CIFAR-10 UNet, top level
    {4, 256, 8, 8},    // a lower level
    {3, 33, 7},        // odd sizes
    {1001},
    {7},
    {1},
};

struct UnaryCase {
  UnaryOp op;
  const char* name;
  bool positive;  // the op needs x > 0
  // Largest float32 NMSE of forward and backward: 0 where both compute with exactly rounded
  // arithmetic, which the GPU's default (non-fast-math) code generation keeps.
  double forward_nmse, backward_nmse;
};

const UnaryCase kUnary[] = {
    {UnaryOp::Neg, "neg", false, 0, 0},
    {UnaryOp::Exp, "exp", false, 1e-12, 1e-12},
    {UnaryOp::Log, "log", true, 1e-12, 0},
    {UnaryOp::Sqrt, "sqrt", true, 0, 0},
    // The CPU's float sigmoid uses a polynomial exponential (engine/cpu/fast_math.h).
    {UnaryOp::Sigmoid, "sigmoid", false, 1e-12, 1e-12},
    // SiLU's derivative crosses zero near x = -1.28, where relative errors grow.
    {UnaryOp::Silu, "silu", false, 1e-12, 1e-10},
    {UnaryOp::Square, "square", false, 0, 0},
};

Tensor unary_input(OpContext& ctx, const Shape& shape, bool positive) {
  return positive ? ctx.input(shape, 1, 1.0, 1.5) : ctx.input(shape, 1, 4.0);
}

// Operand shapes of a binary case: each is made as an input of its own shape and then viewed
// with out's shape, by expand() (stride 0 on broadcast dims) or by transposing the last two dims.
struct BinaryShapes {
  Shape a, b, out;
  bool a_transposed = false;
  const char* what;
};

const BinaryShapes kBinary[] = {
    {{2, 128, 32, 32}, {2, 128, 32, 32}, {2, 128, 32, 32}, false, "dense"},
    {{2, 128, 32, 32}, {1, 128, 1, 1}, {2, 128, 32, 32}, false, "channel bias"},
    {{4, 1, 16, 16}, {4, 256, 16, 16}, {4, 256, 16, 16}, false, "a broadcast over channels"},
    {{3, 1, 5}, {4, 1}, {3, 4, 5}, false, "both broadcast"},
    {{17, 33}, {1}, {17, 33}, false, "scalar tensor"},
    {{2, 33, 7}, {2, 7, 33}, {2, 7, 33}, true, "a transposed"},
    {{1001}, {1001}, {1001}, false, "dense"},
    {{1}, {1}, {1}, false, "dense"},
};

Tensor binary_operand(OpContext& ctx, const Shape& shape, const Shape& out, bool transposed,
                      uint64_t seed, bool positive) {
  Tensor t = positive ? ctx.input(shape, seed, 1.0, 2.0) : ctx.input(shape, seed, 2.0);
  if (transposed) t = t.transpose(-1, -2);
  return t.expand(out);
}

struct ScalarCase {
  ScalarOp op;
  const char* name;
  double s;
  bool positive;
  double max_nmse;
};

const ScalarCase kScalar[] = {
    {ScalarOp::Add, "add", 0.75, false, 0},      {ScalarOp::Mul, "mul", -1.25, false, 0},
    {ScalarOp::Pow, "pow", 2.0, false, 1e-12},   {ScalarOp::Pow, "pow", 0.5, true, 1e-12},
    {ScalarOp::Pow, "pow", -1.5, true, 1e-12},   {ScalarOp::RSub, "rsub", 1.0, false, 0},
    {ScalarOp::RDiv, "rdiv", 3.0, true, 0},
};

void add_unary_cases(std::vector<OpCase>& cases) {
  for (const UnaryCase& u : kUnary) {
    for (const Shape& shape : kShapes) {
      const std::string desc = fmt::format("{} {}", u.name, shape_str(shape));
      cases.push_back({"unary", desc, u.forward_nmse, [u, shape](OpContext& ctx) {
                         Tensor x = unary_input(ctx, shape, u.positive), y = ctx.output(shape);
                         return [&ctx, u, x, y]() mutable { ctx.backend().unary(u.op, x, y); };
                       }});
      cases.push_back({"unary_backward", desc, u.backward_nmse, [u, shape](OpContext& ctx) {
                         Tensor x = unary_input(ctx, shape, u.positive);
                         Tensor dy = ctx.input(shape, 2, 1.0, 0.2), dx = ctx.output(shape);
                         return [&ctx, u, x, dy, dx]() mutable {
                           ctx.backend().unary_backward(u.op, x, dy, dx);
                         };
                       }});
    }
  }
}

// Bounds that cut both tails of the inputs, and bounds that cut nothing; the inputs are rounded
// to multiples of 0.5 so that many lie exactly on a bound (where the derivative is 1, as in
// PyTorch).
void add_clamp_cases(std::vector<OpCase>& cases) {
  struct Bounds {
    double lo, hi;
  };
  for (const Bounds b : {Bounds{-1.0, 1.0}, Bounds{-0.5, 2.5}, Bounds{-1e30, 1e30}}) {
    for (const Shape& shape : kShapes) {
      const std::string desc = fmt::format("[{}, {}] {}", b.lo, b.hi, shape_str(shape));
      const auto input = [shape](OpContext& ctx) {
        std::vector<double> v = test::hashed_values(shape_numel(shape), 1, 4.0, 0.0);
        for (double& e : v) e = std::round(2 * e) / 2;
        return ctx.values(v, shape);
      };
      cases.push_back({"clamp", desc, 0, [b, shape, input](OpContext& ctx) {
                         Tensor x = input(ctx), y = ctx.output(shape);
                         return [&ctx, b, x, y]() mutable { ctx.backend().clamp(x, b.lo, b.hi, y); };
                       }});
      cases.push_back({"clamp_backward", desc, 0, [b, shape, input](OpContext& ctx) {
                         Tensor x = input(ctx);
                         Tensor dy = ctx.input(shape, 2, 1.0, 0.2), dx = ctx.output(shape);
                         return [&ctx, b, x, dy, dx]() mutable {
                           ctx.backend().clamp_backward(x, b.lo, b.hi, dy, dx);
                         };
                       }});
    }
  }
}

void add_binary_cases(std::vector<OpCase>& cases) {
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    for (const BinaryShapes& b : kBinary) {
      const std::string desc = fmt::format("{} {} {} -> {} {}", op_name(op), shape_str(b.a),
                                           shape_str(b.b), shape_str(b.out), b.what);
      cases.push_back({"binary", desc, 0, [op, b](OpContext& ctx) {
                         const bool div = op == BinaryOp::Div;
                         Tensor x = binary_operand(ctx, b.a, b.out, b.a_transposed, 1, false);
                         Tensor y = binary_operand(ctx, b.b, b.out, false, 2, div);
                         Tensor out = ctx.output(b.out);
                         return [&ctx, op, x, y, out]() mutable {
                           ctx.backend().binary(op, x, y, out);
                         };
                       }});
    }
  }
}

void add_scalar_cases(std::vector<OpCase>& cases) {
  for (const ScalarCase& c : kScalar) {
    for (const Shape& shape : {Shape{4, 256, 8, 8}, Shape{1001}, Shape{1}}) {
      const std::string desc = fmt::format("{} {} {}", c.name, c.s, shape_str(shape));
      cases.push_back({"scalar", desc, c.max_nmse, [c, shape](OpContext& ctx) {
                         Tensor x = c.positive ? ctx.input(shape, 3, 1.0, 1.5)
                                               : ctx.input(shape, 3, 2.0);
                         Tensor y = ctx.output(shape);
                         return [&ctx, c, x, y]() mutable {
                           ctx.backend().scalar(c.op, x, c.s, y);
                         };
                       }});
    }
  }
}

void add_axpy_cases(std::vector<OpCase>& cases) {
  for (const Shape& shape : {Shape{2, 128, 32, 32}, Shape{1001}, Shape{7}, Shape{1}}) {
    for (double alpha : {0.37, -1.0}) {
      // Within rounding: y + αx may or may not be contracted to a fused multiply-add.
      cases.push_back({"axpy", fmt::format("{} alpha={}", shape_str(shape), alpha), 1e-14,
                       [shape, alpha](OpContext& ctx) {
                         Tensor y = ctx.inout(shape, 4), x = ctx.input(shape, 5);
                         return [&ctx, y, alpha, x]() mutable { ctx.backend().axpy(y, alpha, x); };
                       }});
    }
  }
}

}  // namespace

void add_elementwise_cases(std::vector<OpCase>& cases) {
  add_unary_cases(cases);
  add_clamp_cases(cases);
  add_binary_cases(cases);
  add_scalar_cases(cases);
  add_axpy_cases(cases);
}

}  // namespace s2dm::backend_ops
