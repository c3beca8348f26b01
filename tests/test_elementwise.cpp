// Elementwise ops: broadcasting binary ops, scalar and unary ops and clamp: values and float64
// gradient checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::check_gradients;
using test::randn64;

TEST_CASE("broadcasting binary ops: values", "[ops][elementwise]") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<double>{10, 20, 30}, {3});
  CHECK(add(a, b).to_vector() == std::vector<double>{11, 22, 33, 14, 25, 36});
  Tensor c = Tensor::from_vector(std::vector<double>{2, 4}, {2, 1});
  CHECK(div(a, c).to_vector() == std::vector<double>{0.5, 1, 1.5, 1, 1.25, 1.5});
  CHECK(sub(b, a).shape() == Shape{2, 3});
  CHECK_THROWS_WITH(add(a, Tensor::zeros({4}, DType::F64)), Catch::Contains("do not broadcast"));
  CHECK_THROWS_WITH(add(a, Tensor::zeros({3})), Catch::Contains("differ in dtype"));
}

TEST_CASE("binary ops: gradient check with broadcasting and odd sizes", "[ops][elementwise][grad]") {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 5}, {3, 5}}, {{2, 3, 5}, {5}}, {{4, 1, 3}, {1, 7, 1}}, {{7}, {1}}, {{2, 3, 1, 1}, {3, 5, 5}}};
  int seed = 1;
  for (const auto& [sa, sb] : cases) {
    Tensor a = randn64(sa, seed++);
    Tensor b = randn64(sb, seed++, 0.5, 2.0);  // away from 0 for div
    check_gradients("add", [](const auto& in) { return add(in[0], in[1]); }, {a, b});
    check_gradients("sub", [](const auto& in) { return sub(in[0], in[1]); }, {a, b});
    check_gradients("mul", [](const auto& in) { return mul(in[0], in[1]); }, {a, b});
    check_gradients("div", [](const auto& in) { return div(in[0], in[1]); }, {a, b});
  }
}

TEST_CASE("scalar and unary ops: values and gradient checks", "[ops][elementwise][grad]") {
  Tensor x = Tensor::from_vector(std::vector<double>{-1, 0, 2}, {3});
  CHECK(silu(x).to_vector()[0] == Approx(-1.0 / (1.0 + std::exp(1.0))));
  CHECK(sigmoid(x).to_vector()[1] == 0.5);
  CHECK(rsub_scalar(x, 1).to_vector() == std::vector<double>{2, 1, -1});
  for (const Shape& s : {Shape{7}, Shape{2, 3, 5}}) {
    Tensor a = randn64(s, 11);
    Tensor pos = randn64(s, 12, 0.3, 2.0);  // positive for log/sqrt/pow/rdiv
    check_gradients("neg", [](const auto& in) { return neg(in[0]); }, {a});
    check_gradients("exp", [](const auto& in) { return exp(in[0]); }, {a});
    check_gradients("log", [](const auto& in) { return log(in[0]); }, {pos});
    check_gradients("sqrt", [](const auto& in) { return sqrt(in[0]); }, {pos});
    check_gradients("square", [](const auto& in) { return square(in[0]); }, {a});
    check_gradients("sigmoid", [](const auto& in) { return sigmoid(in[0]); }, {a});
    check_gradients("silu", [](const auto& in) { return silu(in[0]); }, {a});
    check_gradients("add_scalar", [](const auto& in) { return add_scalar(in[0], 1.5); }, {a});
    check_gradients("mul_scalar", [](const auto& in) { return mul_scalar(in[0], -3.0); }, {a});
    check_gradients("pow_scalar", [](const auto& in) { return pow_scalar(in[0], 2.5); }, {pos});
    check_gradients("rsub_scalar", [](const auto& in) { return rsub_scalar(in[0], 2.0); }, {a});
    check_gradients("rdiv_scalar", [](const auto& in) { return rdiv_scalar(in[0], 3.0); }, {pos});
  }
}

TEST_CASE("clamp: values and gradient as PyTorch defines them, gradient check", "[ops][elementwise][grad]") {
  // torch.tensor([-2., -1., 0., 1., 2., nan], dtype=float64).clamp(-1, 1) and the gradient of
  // its sum (PyTorch 1.13): the bounds themselves pass the gradient, NaN stays NaN.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = Tensor::from_vector(std::vector<double>{-2, -1, 0, 1, 2, nan}, {6});
  x.set_requires_grad(true);
  Tensor y = clamp(x, -1, 1);
  const std::vector<double> v = y.to_vector();
  CHECK(std::vector<double>(v.begin(), v.end() - 1) == std::vector<double>{-1, -1, 0, 1, 1});
  CHECK(std::isnan(v.back()));
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{0, 1, 1, 1, 0, 0});
  CHECK_THROWS_WITH(clamp(x, 1, -1), Catch::Contains("lower bound 1 is above the upper bound -1"));
  // Away from the bounds the central difference is exact on both sides of them.
  Tensor a = randn64({4, 9}, 13, 2.0);
  check_gradients("clamp", [](const auto& in) { return clamp(in[0], -1.0, 1.5); }, {a});
}
