// The elementwise ops' enums and per-element math, shared by the CPU backend and the kernels so
// both evaluate the same expressions (as philox.h and adam_math.h do for their ops). The engine's
// Backend takes these enums directly; nothing maps one enum onto another.
//
// The transcendental functions come from a Math policy, because the two sides differ only there:
// the kernels use the accurate CUDA functions, the CPU its vectorisable polynomial exponential
// for float sigmoid/SiLU (engine/cpu/fast_math.h). A policy provides static exp, log, sqrt, pow
// and sigmoid for float and double.
#pragma once
#include <type_traits>

#include "kernels/host_device.h"

namespace s2dm {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Sigmoid, Silu, Square };
enum class BinaryOp { Add, Sub, Mul, Div };
enum class ScalarOp { Add, Mul, Pow, RSub, RDiv };  // x+s, x*s, x^s, s-x, s/x

inline const char* op_name(UnaryOp op) {
  constexpr const char* names[] = {"neg", "exp", "log", "sqrt", "sigmoid", "silu", "square"};
  return names[static_cast<int>(op)];
}
inline const char* op_name(BinaryOp op) {
  constexpr const char* names[] = {"add", "sub", "mul", "div"};
  return names[static_cast<int>(op)];
}
inline const char* op_name(ScalarOp op) {
  constexpr const char* names[] = {"add", "mul", "pow", "rsub", "rdiv"};
  return names[static_cast<int>(op)];
}

namespace elementwise {

// f(x).
template <UnaryOp Op, typename M, typename T>
S2DM_HD T unary_value(T x) {
  if constexpr (Op == UnaryOp::Neg) return -x;
  else if constexpr (Op == UnaryOp::Exp) return M::exp(x);
  else if constexpr (Op == UnaryOp::Log) return M::log(x);
  else if constexpr (Op == UnaryOp::Sqrt) return M::sqrt(x);
  else if constexpr (Op == UnaryOp::Sigmoid) return M::sigmoid(x);
  else if constexpr (Op == UnaryOp::Silu) return x * M::sigmoid(x);
  else return x * x;
}

// f'(x).
template <UnaryOp Op, typename M, typename T>
S2DM_HD T unary_derivative(T x) {
  if constexpr (Op == UnaryOp::Neg) {
    return T(-1);
  } else if constexpr (Op == UnaryOp::Exp) {
    return M::exp(x);
  } else if constexpr (Op == UnaryOp::Log) {
    return T(1) / x;
  } else if constexpr (Op == UnaryOp::Sqrt) {
    return T(0.5) / M::sqrt(x);
  } else if constexpr (Op == UnaryOp::Sigmoid) {
    const T s = M::sigmoid(x);
    return s * (T(1) - s);
  } else if constexpr (Op == UnaryOp::Silu) {
    const T s = M::sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  } else {
    return T(2) * x;
  }
}

template <BinaryOp Op, typename T>
S2DM_HD T binary_value(T a, T b) {
  if constexpr (Op == BinaryOp::Add) return a + b;
  else if constexpr (Op == BinaryOp::Sub) return a - b;
  else if constexpr (Op == BinaryOp::Mul) return a * b;
  else return a / b;
}

template <ScalarOp Op, typename M, typename T>
S2DM_HD T scalar_value(T x, T s) {
  if constexpr (Op == ScalarOp::Add) return x + s;
  else if constexpr (Op == ScalarOp::Mul) return x * s;
  else if constexpr (Op == ScalarOp::Pow) return M::pow(x, s);
  else if constexpr (Op == ScalarOp::RSub) return s - x;
  else return s / x;
}

// min(max(x, lo), hi), written so that NaN stays NaN (as torch.clamp).
template <typename T>
S2DM_HD T clamp_value(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// ∂clamp/∂x as PyTorch defines it: 1 on the closed interval [lo, hi], else 0 (NaN included).
template <typename T>
S2DM_HD T clamp_derivative(T x, T lo, T hi) {
  return (x >= lo && x <= hi) ? T(1) : T(0);
}

// Calls f(std::integral_constant<Op, op>{}) for the runtime op, so a loop or a kernel is
// instantiated per op and never branches inside (host code: the launchers and the CPU loops).
template <typename F>
inline void with_op(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg: f(std::integral_constant<UnaryOp, UnaryOp::Neg>{}); break;
    case UnaryOp::Exp: f(std::integral_constant<UnaryOp, UnaryOp::Exp>{}); break;
    case UnaryOp::Log: f(std::integral_constant<UnaryOp, UnaryOp::Log>{}); break;
    case UnaryOp::Sqrt: f(std::integral_constant<UnaryOp, UnaryOp::Sqrt>{}); break;
    case UnaryOp::Sigmoid: f(std::integral_constant<UnaryOp, UnaryOp::Sigmoid>{}); break;
    case UnaryOp::Silu: f(std::integral_constant<UnaryOp, UnaryOp::Silu>{}); break;
    case UnaryOp::Square: f(std::integral_constant<UnaryOp, UnaryOp::Square>{}); break;
  }
}

template <typename F>
inline void with_op(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: f(std::integral_constant<BinaryOp, BinaryOp::Add>{}); break;
    case BinaryOp::Sub: f(std::integral_constant<BinaryOp, BinaryOp::Sub>{}); break;
    case BinaryOp::Mul: f(std::integral_constant<BinaryOp, BinaryOp::Mul>{}); break;
    case BinaryOp::Div: f(std::integral_constant<BinaryOp, BinaryOp::Div>{}); break;
  }
}

template <typename F>
inline void with_op(ScalarOp op, F&& f) {
  switch (op) {
    case ScalarOp::Add: f(std::integral_constant<ScalarOp, ScalarOp::Add>{}); break;
    case ScalarOp::Mul: f(std::integral_constant<ScalarOp, ScalarOp::Mul>{}); break;
    case ScalarOp::Pow: f(std::integral_constant<ScalarOp, ScalarOp::Pow>{}); break;
    case ScalarOp::RSub: f(std::integral_constant<ScalarOp, ScalarOp::RSub>{}); break;
    case ScalarOp::RDiv: f(std::integral_constant<ScalarOp, ScalarOp::RDiv>{}); break;
  }
}

}  // namespace elementwise
}  // namespace s2dm
