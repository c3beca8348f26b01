// Tensor construction, views sharing storage, layout ops and dtype conversion.
#include <catch2/catch.hpp>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/ops.h"

using namespace s2dm;

TEST_CASE("factories fill the requested values", "[tensor]") {
  CHECK(Tensor::zeros({2, 3}).to_vector() == std::vector<double>(6, 0.0));
  CHECK(Tensor::ones({4}, DType::F64).to_vector() == std::vector<double>(4, 1.0));
  CHECK(Tensor::full({2}, 2.5).to_vector() == std::vector<double>{2.5, 2.5});
  CHECK(Tensor::arange(4).to_vector() == std::vector<double>{0, 1, 2, 3});
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.strides() == Strides{3, 1});
  CHECK(t.dtype() == DType::F32);
  CHECK_THROWS_AS(Tensor::from_vector(std::vector<float>{1, 2}, {3}), Error);
}

TEST_CASE("views share storage: reshape, permute, slice, expand, contiguous", "[tensor]") {
  Tensor t = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor r = t.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.impl()->storage == t.impl()->storage);

  Tensor p = t.permute({1, 0});
  CHECK(p.shape() == Shape{3, 2});
  CHECK_FALSE(p.is_contiguous());
  CHECK(p.to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  Tensor pc = p.contiguous();
  CHECK(pc.is_contiguous());
  CHECK(pc.impl()->storage != t.impl()->storage);
  CHECK(pc.to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});

  Tensor s = t.slice(1, 1, 3);
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.to_vector() == std::vector<double>{1, 2, 4, 5});
  s.fill_(9);  // writes through the view
  CHECK(t.to_vector() == std::vector<double>{0, 9, 9, 3, 9, 9});

  Tensor row = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  Tensor e = row.expand({2, 3});
  CHECK(e.strides() == Strides{0, 1});
  CHECK(e.to_vector() == std::vector<double>{1, 2, 3, 1, 2, 3});

  CHECK_THROWS_AS(t.reshape({4, 2}), Error);
  CHECK_THROWS_AS(t.slice(0, 1, 3), Error);
  CHECK_THROWS_AS(row.expand({2, 4}), Error);
  CHECK_THROWS_AS(p.view({6}), Error);
  CHECK(p.reshape({6}).to_vector() == std::vector<double>{0, 3, 9, 9, 9, 9});  // sees the fill
}

TEST_CASE("dtype conversion, including bfloat16 storage", "[tensor]") {
  Tensor f = Tensor::from_vector(std::vector<float>{1.0f, -2.5f, 3.14159f, 65504.0f}, {4});
  Tensor d = f.to(DType::F64);
  CHECK(d.dtype() == DType::F64);
  CHECK(d.to_vector() == f.to_vector());
  Tensor b = f.to(DType::BF16);
  CHECK(b.dtype() == DType::BF16);
  CHECK(b.nbytes() == 8);
  const auto bv = b.to_vector();
  CHECK(bv[0] == 1.0);
  CHECK(bv[1] == -2.5);
  CHECK(bv[2] == Approx(3.140625));  // 8 mantissa bits, round to nearest even
  CHECK(bv[3] == 65536.0);
  CHECK(float_to_bf16(1.00390625f) == 0x3f80);  // a tie rounds to even
  CHECK(float_to_bf16(1.01171875f) == 0x3f82);  // a tie rounds to even (up)
  CHECK_THROWS_AS(exp(b), Error);  // storage only
}

TEST_CASE("sizes and messages", "[tensor]") {
  Tensor t = Tensor::zeros({2, 3, 5});
  CHECK(t.size(-1) == 5);
  CHECK(t.numel() == 30);
  CHECK(t.str() == "float32[2, 3, 5] cpu");
  CHECK_THROWS_AS(t.size(3), Error);
  // cuda:63 is missing on every machine, with or without a GPU.
  CHECK_THROWS_WITH(backend_for(Device::cuda(63)), Catch::Contains("cuda:63 is not available"));
}
