// CPU elementwise ops: unary and clamp (and their derivatives), broadcasting binary, scalar,
// axpy. The per-element math is kernels/elementwise_math.h, shared with the kernels.
#include <cmath>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/fast_math.h"
#include "engine/cpu/strided.h"
#include "kernels/elementwise_math.h"

namespace s2dm {

namespace {

// The Math policy of kernels/elementwise_math.h on the CPU: the C library, and the vectorisable
// polynomial exponential for sigmoid (and so SiLU) in float.
struct CpuMath {
  template <typename T>
  static T exp(T v) { return std::exp(v); }
  template <typename T>
  static T log(T v) { return std::log(v); }
  template <typename T>
  static T sqrt(T v) { return std::sqrt(v); }
  template <typename T>
  static T pow(T v, T e) { return std::pow(v, e); }
  template <typename T>
  static T sigmoid(T v) { return cpu::sigmoid_fast(v); }
};

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& y) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    elementwise::with_op(op, [&](auto c) {
      constexpr UnaryOp kOp = decltype(c)::value;
#pragma omp parallel for if (n > cpu::kParallelGrain)
      for (int64_t i = 0; i < n; ++i) py[i] = elementwise::unary_value<kOp, CpuMath>(px[i]);
    });
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    elementwise::with_op(op, [&](auto c) {
      constexpr UnaryOp kOp = decltype(c)::value;
#pragma omp parallel for if (n > cpu::kParallelGrain)
      for (int64_t i = 0; i < n; ++i)
        pdx[i] = pdy[i] * elementwise::unary_derivative<kOp, CpuMath>(px[i]);
    });
  });
}

void CpuBackend::clamp(const Tensor& x, double lo, double hi, Tensor& y) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) py[i] = elementwise::clamp_value(px[i], l, h);
  });
}

void CpuBackend::clamp_backward(const Tensor& x, double lo, double hi, const Tensor& dy,
                                Tensor& dx) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) pdx[i] = pdy[i] * elementwise::clamp_derivative(px[i], l, h);
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const int64_t n = out.numel();
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* pa = static_cast<const T*>(a.raw());
    const T* pb = static_cast<const T*>(b.raw());
    T* po = out.data<T>();
    elementwise::with_op(op, [&](auto c) {
      constexpr BinaryOp kOp = decltype(c)::value;
      const auto f = [](T u, T v) { return elementwise::binary_value<kOp>(u, v); };
      if (a.is_contiguous() && b.is_contiguous()) {
#pragma omp parallel for if (n > cpu::kParallelGrain)
        for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
        return;
      }
      cpu::strided_rows<3>(out.shape(), {a.strides(), b.strides(), out.strides()},
                           [&](const auto& o, int64_t len, const auto& inner) {
        const T* ra = pa + o[0];
        const T* rb = pb + o[1];
        T* ro = po + o[2];
        if (inner[0] == 1 && inner[1] == 1 && inner[2] == 1) {
          for (int64_t j = 0; j < len; ++j) ro[j] = f(ra[j], rb[j]);
        } else if (inner[0] == 1 && inner[1] == 0 && inner[2] == 1) {  // b broadcast along the row
          const T bv = rb[0];
          for (int64_t j = 0; j < len; ++j) ro[j] = f(ra[j], bv);
        } else if (inner[0] == 0 && inner[1] == 1 && inner[2] == 1) {  // a broadcast along the row
          const T av = ra[0];
          for (int64_t j = 0; j < len; ++j) ro[j] = f(av, rb[j]);
        } else {
          for (int64_t j = 0; j < len; ++j)
            ro[j * inner[2]] = f(ra[j * inner[0]], rb[j * inner[1]]);
        }
      });
    });
  });
}

void CpuBackend::scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) {
  const int64_t n = x.numel();
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T sv = static_cast<T>(s);
    elementwise::with_op(op, [&](auto c) {
      constexpr ScalarOp kOp = decltype(c)::value;
#pragma omp parallel for if (n > cpu::kParallelGrain)
      for (int64_t i = 0; i < n; ++i) py[i] = elementwise::scalar_value<kOp, CpuMath>(px[i], sv);
    });
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
