// Matrix products and linear layers: values and float64 gradient checks.
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

TEST_CASE("matmul and linear: values and gradient checks", "[ops][linalg][grad]") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector(std::vector<double>{5, 6, 7, 8}, {2, 2});
  CHECK(matmul(a, b).to_vector() == std::vector<double>{19, 22, 43, 50});
  CHECK(matmul(a, b).shape() == Shape{2, 2});

  Tensor m1 = randn64({3, 5}, 41), m2 = randn64({5, 7}, 42);
  check_gradients("matmul 2d", [](const auto& in) { return matmul(in[0], in[1]); }, {m1, m2});
  Tensor b1 = randn64({2, 3, 5}, 43), b2 = randn64({2, 5, 4}, 44);
  check_gradients("matmul 3d", [](const auto& in) { return matmul(in[0], in[1]); }, {b1, b2});
  check_gradients("matmul 3d@2d", [](const auto& in) { return matmul(in[0], in[1]); },
                  {b1, randn64({5, 3}, 45)});
  check_gradients("matmul 2d@3d", [](const auto& in) { return matmul(in[0], in[1]); },
                  {randn64({4, 3}, 46), randn64({2, 3, 5}, 47)});
  check_gradients("matmul of a transposed view",
                  [](const auto& in) { return matmul(in[0].transpose(0, 1), in[1]); },
                  {randn64({5, 3}, 48), randn64({5, 2}, 49)});

  Tensor x = randn64({2, 3, 7}, 50), w = randn64({5, 7}, 51), bias = randn64({5}, 52);
  check_gradients("linear", [](const auto& in) { return linear(in[0], in[1], in[2]); }, {x, w, bias});
  check_gradients("linear no bias", [](const auto& in) { return linear(in[0], in[1]); }, {x, w});
  CHECK_THROWS_WITH(matmul(m1, m1), Catch::Contains("inner dimensions"));
  CHECK_THROWS_AS(linear(x, randn64({5, 6}, 53)), Error);
}
