// concat: values along every dim, the sliced backward, float64 gradient checks, errors and
// parity with PyTorch (tests/golden/gen_resample.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"
#include "tests/golden_parity.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::check_gradients;
using test::check_parity;
using test::f64;
using test::f64_leaf;
using test::randn64;

TEST_CASE("concat: values along first, middle and last dims", "[concat]") {
  Tensor a = f64({1, 2}, {1, 2}), b = f64({3, 4, 5, 6}, {2, 2});
  Tensor c0 = concat({a, b}, 0);
  CHECK(c0.shape() == Shape{3, 2});
  CHECK(c0.to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6});

  Tensor p = f64({1, 2, 3, 4}, {2, 2}), q = f64({7, 8}, {2, 1}), r = f64({9, 10, 11, 12}, {2, 2});
  Tensor c1 = concat({p, q, r}, -1);
  CHECK(c1.shape() == Shape{2, 5});
  CHECK(c1.to_vector() == std::vector<double>{1, 2, 7, 9, 10, 3, 4, 8, 11, 12});

  // Middle dim of [2, k, 1]: each batch entry keeps its inputs together.
  Tensor u = f64({1, 2, 3, 4}, {2, 2, 1}), v = f64({5, 6}, {2, 1, 1});
  CHECK(concat({u, v}, 1).to_vector() == std::vector<double>{1, 2, 5, 3, 4, 6});

  // A transposed (non-contiguous) input and an empty input.
  Tensor t = f64({1, 2, 3, 4}, {2, 2}).transpose(0, 1);
  Tensor e = Tensor::zeros({0, 2}, DType::F64);
  CHECK(concat({t, e, a}, 0).to_vector() == std::vector<double>{1, 3, 2, 4, 1, 2});

  // One input: a copy, not an alias.
  Tensor single = concat({a}, 1);
  CHECK(single.to_vector() == a.to_vector());
  CHECK(single.raw() != a.raw());
}

TEST_CASE("concat: backward hands each input its slice", "[concat]") {
  Tensor a = f64_leaf({1, 2, 3}, {1, 3});
  Tensor frozen = f64({4, 5, 6, 7, 8, 9}, {2, 3});  // no grad wanted
  Tensor b = f64_leaf({10, 11, 12}, {1, 3});
  Tensor y = concat({a, frozen, b}, 0);
  REQUIRE(y.requires_grad());
  y.backward(Tensor::arange(12, DType::F64).reshape({4, 3}));
  CHECK(a.grad().to_vector() == std::vector<double>{0, 1, 2});
  CHECK(b.grad().to_vector() == std::vector<double>{9, 10, 11});
  CHECK(a.grad().is_contiguous());
  CHECK_FALSE(frozen.grad().defined());

  NoGradGuard no_grad;
  CHECK_FALSE(concat({a, b}, 0).requires_grad());
}

TEST_CASE("concat: gradient checks along dims 0, 1 and last", "[concat][grad]") {
  const test::Fn cat0 = [](const auto& in) { return concat(in, 0); };
  const test::Fn cat1 = [](const auto& in) { return concat(in, 1); };
  const test::Fn cat_last = [](const auto& in) { return concat(in, -1); };
  check_gradients("concat dim 0, 2 inputs", cat0,
                  {randn64({2, 3, 4}, 300), randn64({3, 3, 4}, 301)});
  check_gradients("concat dim 0, 3 inputs", cat0,
                  {randn64({1, 5}, 302), randn64({3, 5}, 303), randn64({2, 5}, 304)});
  check_gradients("concat dim 1, 2 inputs", cat1,
                  {randn64({2, 3, 5, 2}, 305), randn64({2, 1, 5, 2}, 306)});
  check_gradients("concat dim 1, 3 inputs", cat1,
                  {randn64({2, 2, 3}, 307), randn64({2, 5, 3}, 308), randn64({2, 1, 3}, 309)});
  check_gradients("concat last dim, 2 inputs", cat_last,
                  {randn64({3, 2, 4}, 310), randn64({3, 2, 1}, 311)});
  check_gradients("concat last dim, 3 inputs", cat_last,
                  {randn64({2, 3, 2}, 312), randn64({2, 3, 5}, 313), randn64({2, 3, 3}, 314)});
  check_gradients("concat with a constant input", cat1,
                  {randn64({2, 2, 3}, 315), randn64({2, 4, 3}, 316, 1.0, 0.0, false)});
  check_gradients("concat of the same tensor twice",
                  [](const auto& in) { return concat({in[0], in[0]}, 1); },
                  {randn64({2, 3}, 317)});
  check_gradients("concat of a transposed view",
                  [](const auto& in) { return concat({in[0].transpose(0, 1), in[1]}, 0); },
                  {randn64({3, 2}, 318), randn64({4, 3}, 319)});
}

TEST_CASE("concat: errors", "[concat]") {
  Tensor a = Tensor::zeros({2, 3}, DType::F64);
  CHECK_THROWS_WITH(concat({}, 0), Catch::Contains("at least one"));
  CHECK_THROWS_WITH(concat({a, Tensor()}, 0), Catch::Contains("undefined"));
  CHECK_THROWS_WITH(concat({a, Tensor::zeros({2, 3})}, 0), Catch::Contains("dtypes and devices"));
  CHECK_THROWS_WITH(concat({a, Tensor::zeros({2, 3, 1}, DType::F64)}, 0), Catch::Contains("3-d"));
  CHECK_THROWS_WITH(concat({a, Tensor::zeros({2, 4}, DType::F64)}, 0),
                    Catch::Contains("only dim 0 may differ"));
  CHECK_THROWS_WITH(concat({a, a}, 2), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(concat({a, a}, -3), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(concat({Tensor::zeros({}, DType::F64)}, 0), Catch::Contains("0-d"));
  CHECK_THROWS_WITH(concat({a.to(DType::BF16)}, 0), Catch::Contains("bfloat16"));
}

TEST_CASE("concat matches PyTorch", "[concat][golden]") {
  check_parity("cat0", 3, [](const auto& in) { return concat(in, 0); }, 0, 0);
  check_parity("cat1", 2, [](const auto& in) { return concat(in, 1); }, 0, 0);
  check_parity("cat_last", 3, [](const auto& in) { return concat(in, -1); }, 0, 0);
}
