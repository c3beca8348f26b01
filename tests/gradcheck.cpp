// Central-difference gradient checking in float64.
#include "tests/gradcheck.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace s2dm::test {

Tensor randn64(const Shape& shape, uint64_t seed, double scale, double shift, bool requires_grad) {
  Generator g(seed);
  Tensor t = add_scalar(mul_scalar(randn(shape, g, DType::F64), scale), shift);
  t = t.detach();
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

namespace {
double weighted_sum(const Tensor& out, const Tensor& w) {
  const auto o = out.to_vector();
  const auto wv = w.to_vector();
  double s = 0;
  for (size_t i = 0; i < o.size(); ++i) s += o[i] * wv[i];
  return s;
}
}  // namespace

void check_gradients(const std::string& what, const Fn& f, const std::vector<Tensor>& inputs,
                     double eps, double atol, double rtol) {
  for (const Tensor& in : inputs) {
    if (!in.defined()) continue;
    REQUIRE(in.dtype() == DType::F64);
    REQUIRE(in.is_contiguous());
    in.impl()->grad.reset();
  }
  Tensor out = f(inputs);
  REQUIRE(out.requires_grad());
  Tensor w = randn64(out.shape(), 12345, 1.0, 0.0, false);
  sum(mul(out, w)).backward();

  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    if (!in.defined() || !in.requires_grad()) continue;
    INFO(what << ": input " << i << " " << in.str());
    REQUIRE(in.grad().defined());
    const auto analytic = in.grad().to_vector();
    double* p = in.data<double>();
    for (int64_t j = 0; j < in.numel(); ++j) {
      const double saved = p[j];
      p[j] = saved + eps;
      const double lp = weighted_sum(f(inputs), w);
      p[j] = saved - eps;
      const double lm = weighted_sum(f(inputs), w);
      p[j] = saved;
      const double numeric = (lp - lm) / (2 * eps);
      const double a = analytic[static_cast<size_t>(j)];
      if (std::abs(a - numeric) > atol + rtol * std::abs(numeric)) {
        FAIL(what << ": input " << i << " element " << j << ": analytic " << a << " vs numeric "
                  << numeric);
      }
    }
  }
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

void require_close(const std::string& what, const Tensor& actual, const Tensor& expected,
                   double atol, double rtol) {
  INFO(what << ": actual " << actual.str() << " expected " << expected.str());
  REQUIRE(actual.shape() == expected.shape());
  const auto x = actual.to_vector(), y = expected.to_vector();
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) {
      FAIL(what << ": element " << i << " is " << x[i] << ", expected " << y[i]);
    }
  }
}

std::string golden_path(const std::string& name) { return std::string(S2DM_GOLDEN_DIR) + "/" + name; }

}  // namespace s2dm::test
