// Views and layout: float64 gradient checks through reshape, permute, slice and contiguous.
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

TEST_CASE("view ops: gradient checks", "[ops][shape][grad]") {
  Tensor x = randn64({2, 3, 4}, 61);
  check_gradients("reshape", [](const auto& in) { return in[0].reshape({4, 6}); }, {x});
  check_gradients("permute", [](const auto& in) { return in[0].permute({2, 0, 1}).contiguous(); }, {x});
  check_gradients("slice", [](const auto& in) { return in[0].slice(2, 1, 3); }, {x});
  check_gradients("expand", [](const auto& in) { return mul_scalar(in[0].slice(0, 0, 1).expand({5, 3, 4}), 2); }, {x});
}
