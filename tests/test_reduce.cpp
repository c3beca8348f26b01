// Reductions: sum and mean values and float64 gradient checks.
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

TEST_CASE("sum and mean: values and gradient checks", "[ops][reduce][grad]") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(sum(a).item() == 21);
  CHECK(sum(a).dim() == 0);
  CHECK(sum(a, {0}).to_vector() == std::vector<double>{5, 7, 9});
  CHECK(sum(a, {1}, true).shape() == Shape{2, 1});
  CHECK(mean(a, {-1}).to_vector() == std::vector<double>{2, 5});
  CHECK(mean(a).item() == 3.5);
  Tensor x = randn64({3, 4, 5}, 21);
  check_gradients("sum", [](const auto& in) { return sum(in[0]); }, {x});
  check_gradients("sum(0,2)", [](const auto& in) { return sum(in[0], {0, 2}); }, {x});
  check_gradients("sum(1,keep)", [](const auto& in) { return sum(in[0], {1}, true); }, {x});
  check_gradients("mean", [](const auto& in) { return mean(in[0]); }, {x});
  check_gradients("mean(-1)", [](const auto& in) { return mean(in[0], {-1}); }, {x});
  CHECK_THROWS_AS(sum(x, {3}), Error);
}
