// CPU elementwise ops: unary (and their derivatives), broadcasting binary, scalar, axpy.
#include <cmath>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/fast_math.h"
#include "engine/cpu/strided.h"

namespace s2dm {

namespace {

template <typename T>
T sigmoid(T x) {
  return cpu::sigmoid_fast(x);
}

template <typename T>
T apply_unary(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Silu: return x * sigmoid(x);
    case UnaryOp::Square: return x * x;
  }
  return x;
}

// d f(x) / dx
template <typename T>
T unary_derivative(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sqrt: return T(0.5) / std::sqrt(x);
    case UnaryOp::Sigmoid: {
      const T s = sigmoid(x);
      return s * (T(1) - s);
    }
    case UnaryOp::Silu: {
      const T s = sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case UnaryOp::Square: return T(2) * x;
  }
  return T(0);
}

template <typename T>
T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
}

template <typename T>
T apply_scalar(ScalarOp op, T x, T s) {
  switch (op) {
    case ScalarOp::Add: return x + s;
    case ScalarOp::Mul: return x * s;
    case ScalarOp::Pow: return std::pow(x, s);
    case ScalarOp::RSub: return s - x;
    case ScalarOp::RDiv: return s / x;
  }
  return x;
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& y) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) py[i] = apply_unary(op, px[i]);
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) pdx[i] = pdy[i] * unary_derivative(op, px[i]);
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* pa = static_cast<const T*>(a.raw());
    const T* pb = static_cast<const T*>(b.raw());
    T* po = out.data<T>();
    if (a.is_contiguous() && b.is_contiguous()) {
#pragma omp parallel for if (n > cpu::kParallelGrain)
      for (int64_t i = 0; i < n; ++i) po[i] = apply_binary(op, pa[i], pb[i]);
    } else {
      cpu::strided_rows<3>(out.shape(), {a.strides(), b.strides(), out.strides()},
                           [&](const auto& o, int64_t len, const auto& inner) {
        const T* ra = pa + o[0];
        const T* rb = pb + o[1];
        T* ro = po + o[2];
        if (inner[0] == 1 && inner[1] == 1 && inner[2] == 1) {
          for (int64_t j = 0; j < len; ++j) ro[j] = apply_binary(op, ra[j], rb[j]);
        } else if (inner[0] == 1 && inner[1] == 0 && inner[2] == 1) {  // b broadcast along the row
          const T bv = rb[0];
          for (int64_t j = 0; j < len; ++j) ro[j] = apply_binary(op, ra[j], bv);
        } else if (inner[0] == 0 && inner[1] == 1 && inner[2] == 1) {  // a broadcast along the row
          const T av = ra[0];
          for (int64_t j = 0; j < len; ++j) ro[j] = apply_binary(op, av, rb[j]);
        } else {
          for (int64_t j = 0; j < len; ++j)
            ro[j * inner[2]] = apply_binary(op, ra[j * inner[0]], rb[j * inner[1]]);
        }
      });
    }
  });
}

void CpuBackend::scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T sv = static_cast<T>(s);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) py[i] = apply_scalar(op, px[i], sv);
  });
}

void CpuBackend::axpy(Tensor& y, double alpha, const Tensor& x) {
  const int64_t n = y.numel();
  cpu::dispatch_float(y.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* py = y.data<T>();
    const T* px = x.data<T>();
    const T a = static_cast<T>(alpha);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) py[i] += a * px[i];
  });
}

}  // namespace s2dm
