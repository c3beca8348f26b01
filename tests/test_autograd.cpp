// The backward engine: accumulation, shared subgraphs, no-grad scopes, saved-tensor release.
#include <catch2/catch.hpp>

#include "engine/error.h"
#include "engine/ops.h"

using namespace s2dm;

TEST_CASE("gradients of a diamond graph are summed", "[autograd]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3}).set_requires_grad(true);
  Tensor y = mul(x, x);          // dy/dx = 2x
  Tensor z = add(y, mul_scalar(x, 3));  // uses x twice
  sum(z).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{5, 7, 9});
}

TEST_CASE("leaf gradients accumulate across backward calls until cleared", "[autograd]") {
  Tensor x = Tensor::from_vector(std::vector<double>{2}, {1}).set_requires_grad(true);
  sum(square(x)).backward();
  sum(square(x)).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{8});
  x.zero_grad();
  sum(mul_scalar(x, 5)).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{5});
}

TEST_CASE("no-grad scopes record nothing", "[autograd]") {
  Tensor x = Tensor::ones({2}, DType::F64).set_requires_grad(true);
  {
    NoGradGuard g;
    Tensor y = mul(x, x);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  CHECK(GradMode::enabled());
  CHECK(mul(x, x).requires_grad());
}

TEST_CASE("backward releases saved tensors as it goes", "[autograd]") {
  Tensor x = Tensor::ones({1000}, DType::F64).set_requires_grad(true);
  Tensor h = mul(x, x);  // MulBackward saves x's data
  Tensor e = exp(h);  // UnaryBackward saves h's data
  std::weak_ptr<Storage> h_storage = h.impl()->storage;
  Tensor loss = sum(e);
  h = Tensor();  // only the graph holds h's storage now
  CHECK_FALSE(h_storage.expired());
  loss.backward();
  CHECK(h_storage.expired());
  CHECK(x.grad().defined());
}

TEST_CASE("backward needs a scalar or a seed", "[autograd]") {
  Tensor x = Tensor::ones({3}, DType::F64).set_requires_grad(true);
  Tensor y = mul_scalar(x, 2);
  CHECK_THROWS_AS(y.backward(), Error);
  y.backward(Tensor::from_vector(std::vector<double>{1, 2, 3}, {3}));
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
  Tensor c = Tensor::ones({1});
  CHECK_THROWS_AS(c.backward(), Error);  // does not require grad
}

TEST_CASE("detach cuts the graph", "[autograd]") {
  Tensor x = Tensor::ones({2}, DType::F64).set_requires_grad(true);
  Tensor y = mul(x.detach(), x);
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{1, 1});
}
