// Dropout: the Philox mask, scaling and a float64 gradient check.
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

TEST_CASE("dropout: mask from Philox, scaling, gradient check", "[ops][dropout][grad]") {
  Generator g(5);
  Tensor x = Tensor::ones({10000}, DType::F64);
  Tensor y = dropout(x, 0.25, g);
  const auto v = y.to_vector();
  int kept = 0;
  for (double e : v) {
    REQUIRE((e == 0.0 || e == Approx(1.0 / 0.75)));
    kept += e != 0.0;
  }
  CHECK(std::abs(kept / 10000.0 - 0.75) < 0.02);
  CHECK(dropout(x, 0.25, g, /*training=*/false).to_vector() == x.to_vector());
  CHECK_THROWS_AS(dropout(x, 1.0, g), Error);
  Tensor a = randn64({3, 5, 7}, 71);
  check_gradients("dropout", [](const auto& in) {
    Generator gen(99);  // the same mask on every evaluation
    return dropout(in[0], 0.3, gen);
  }, {a});
}
