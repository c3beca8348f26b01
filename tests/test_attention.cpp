// Scaled dot-product attention: hand-computed values, agreement with the same formula composed
// from matmul and softmax (including sequences long enough to be processed in several query
// blocks), the saved log-sum-exp, float64 gradient checks, error messages and PyTorch parity.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::every_nth;
using test::hashed_f32;
using test::check_gradients;
using test::randn64;

namespace {

Tensor golden(const std::string& name) {
  return load_npy(test::golden_path("attention/" + name + ".npy"));
}

Tensor leaf(const Tensor& t) {
  Tensor l = t.detach().clone();
  l.set_requires_grad(true);
  return l;
}

// The unfused reference: softmax(scale · q kᵀ) v from matmul and softmax.
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  return matmul(softmax(mul_scalar(matmul(q, k.transpose(1, 2)), scale), -1), v);
}

}  // namespace

TEST_CASE("attention: hand-computed values", "[attention]") {
  // One query, two keys with scores 1 and 0 (scale 1): weights e/(e+1) and 1/(e+1).
  Tensor q = Tensor::from_vector(std::vector<double>{1, 0}, {1, 1, 2});
  Tensor k = Tensor::from_vector(std::vector<double>{1, 0, 0, 0}, {1, 2, 2});
  Tensor v = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {1, 2, 3});
  const double p0 = std::exp(1.0) / (std::exp(1.0) + 1.0), p1 = 1.0 - p0;
  const auto o = attention(q, k, v, 1.0).to_vector();
  REQUIRE(o.size() == 3);
  for (size_t j = 0; j < 3; ++j) CHECK(o[j] == Approx(p0 * (1.0 + j) + p1 * (4.0 + j)));
  // scale 0 means C^-1/2: with C = 4 a raw score of 2 becomes 1, giving the same weights.
  Tensor q4 = Tensor::from_vector(std::vector<double>{1, 1, 0, 0}, {1, 1, 4});
  Tensor k4 = Tensor::from_vector(std::vector<double>{1, 1, 0, 0, 0, 0, 0, 0}, {1, 2, 4});
  const auto o4 = attention(q4, k4, v).to_vector();
  for (size_t j = 0; j < 3; ++j) CHECK(o4[j] == Approx(o[j]).epsilon(1e-14));
  // Identical keys: every query gets the mean of the values.
  Tensor qs = randn64({1, 3, 2}, 1, 1.0, 0.0, false);
  Tensor ks = Tensor::from_vector(std::vector<double>{0.3, -2, 0.3, -2}, {1, 2, 2});
  const auto om = attention(qs, ks, v, 0.7).to_vector();
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) CHECK(om[i * 3 + j] == Approx(2.5 + static_cast<double>(j)));
}

TEST_CASE("attention: agrees with the composed formula, values and gradients", "[attention]") {
  struct Case {
    int64_t b, n, m, c, d;
    double scale;
  };
  // The last case spans two query blocks per batch entry (dk, dv accumulate across blocks).
  for (const Case& cs : {Case{1, 4, 6, 3, 5, 0.0}, Case{3, 9, 2, 4, 4, 1.3},
                         Case{2, 300, 500, 8, 5, 0.0}}) {
    INFO("B=" << cs.b << " N=" << cs.n << " M=" << cs.m << " C=" << cs.c << " D=" << cs.d);
    Tensor q = randn64({cs.b, cs.n, cs.c}, 11), k = randn64({cs.b, cs.m, cs.c}, 12);
    Tensor v = randn64({cs.b, cs.m, cs.d}, 13);
    Tensor w = randn64({cs.b, cs.n, cs.d}, 14, 1.0, 0.0, false);
    const double s = cs.scale == 0.0 ? 1.0 / std::sqrt(static_cast<double>(cs.c)) : cs.scale;
    Tensor o = attention(q, k, v, cs.scale);
    sum(mul(o, w)).backward();
    Tensor qr = leaf(q), kr = leaf(k), vr = leaf(v);
    Tensor ref = composed_attention(qr, kr, vr, s);
    sum(mul(ref, w)).backward();
    test::require_close("o", o, ref, 1e-13, 1e-11);
    test::require_close("dq", q.grad(), qr.grad(), 1e-13, 1e-11);
    test::require_close("dk", k.grad(), kr.grad(), 1e-13, 1e-11);
    test::require_close("dv", v.grad(), vr.grad(), 1e-13, 1e-11);
  }
}

TEST_CASE("attention: float32 agrees with float64 at a UNet shape", "[attention]") {
  Tensor q = randn64({2, 256, 64}, 21, 1.0, 0.0, false);
  Tensor k = randn64({2, 256, 64}, 22, 1.0, 0.0, false);
  Tensor v = randn64({2, 256, 64}, 23, 1.0, 0.0, false);
  Tensor o64 = attention(q, k, v);
  Tensor q32 = leaf(q.to(DType::F32)), k32 = leaf(k.to(DType::F32)), v32 = leaf(v.to(DType::F32));
  Tensor o32 = attention(q32, k32, v32);
  REQUIRE(o32.dtype() == DType::F32);
  test::require_close("float32 o", o32, o64, 1e-5, 1e-4);
  Tensor q64 = leaf(q), k64 = leaf(k), v64 = leaf(v);
  Tensor w = randn64({2, 256, 64}, 24, 1.0, 0.0, false);
  sum(mul(attention(q64, k64, v64), w)).backward();
  sum(mul(o32, w.to(DType::F32))).backward();
  test::require_close("float32 dq", q32.grad(), q64.grad(), 1e-4, 1e-3);
  test::require_close("float32 dk", k32.grad(), k64.grad(), 1e-4, 1e-3);
  test::require_close("float32 dv", v32.grad(), v64.grad(), 1e-4, 1e-3);
}

TEST_CASE("attention: backend lse is the row log-sum-exp of the scaled scores", "[attention]") {
  const int64_t b = 2, n = 3, m = 5, c = 4;
  const double scale = 0.8;
  Tensor q = randn64({b, n, c}, 31, 1.0, 0.0, false), k = randn64({b, m, c}, 32, 1.0, 0.0, false);
  Tensor v = randn64({b, m, 2}, 33, 1.0, 0.0, false);
  Tensor o = Tensor::empty({b, n, 2}, DType::F64), lse = Tensor::empty({b, n}, DType::F64);
  backend_for(Device::cpu()).attention_forward(q, k, v, scale, o, lse);
  const auto qv = q.to_vector(), kv = k.to_vector(), lv = lse.to_vector();
  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t i = 0; i < n; ++i) {
      double z = 0;
      for (int64_t j = 0; j < m; ++j) {
        double dot = 0;
        for (int64_t x = 0; x < c; ++x)
          dot += qv[static_cast<size_t>((bi * n + i) * c + x)] *
                 kv[static_cast<size_t>((bi * m + j) * c + x)];
        z += std::exp(scale * dot);
      }
      CHECK(lv[static_cast<size_t>(bi * n + i)] == Approx(std::log(z)).epsilon(1e-13));
    }
  }
}

TEST_CASE("attention: gradient checks", "[attention][grad]") {
  struct Case {
    int64_t b, n, m, c, d;
    double scale;
  };
  uint64_t seed = 40;
  for (const Case& cs : {Case{1, 3, 5, 4, 2, 0.0}, Case{3, 4, 4, 6, 3, 0.0},
                         Case{2, 5, 7, 3, 4, 0.7}, Case{1, 1, 1, 2, 2, 0.0},
                         Case{3, 2, 3, 5, 1, -0.4}}) {
    const std::string tag = "B=" + std::to_string(cs.b) + " N=" + std::to_string(cs.n) +
                            " M=" + std::to_string(cs.m) + " C=" + std::to_string(cs.c) +
                            " D=" + std::to_string(cs.d);
    Tensor q = randn64({cs.b, cs.n, cs.c}, seed++), k = randn64({cs.b, cs.m, cs.c}, seed++);
    Tensor v = randn64({cs.b, cs.m, cs.d}, seed++);
    const double s = cs.scale;
    check_gradients("attention " + tag,
                    [s](const auto& in) { return attention(in[0], in[1], in[2], s); }, {q, k, v});
  }
  // Subsets of inputs needing gradients: backward skips the others.
  Tensor q = randn64({2, 4, 3}, 60), k = randn64({2, 6, 3}, 61), v = randn64({2, 6, 5}, 62);
  Tensor qc = q.detach().clone(), kc = k.detach().clone(), vc = v.detach().clone();
  auto att = [](const auto& in) { return attention(in[0], in[1], in[2], 0.9); };
  check_gradients("attention dq only", att, {q, kc, vc});
  check_gradients("attention dk only", att, {qc, k, vc});
  check_gradients("attention dv only", att, {qc, kc, v});
  check_gradients("attention dq, dv", att, {q, kc, v});
  // Non-contiguous operands inside the graph.
  check_gradients("attention of transposed views",
                  [](const auto& in) {
                    return attention(in[0].transpose(1, 2), in[1].transpose(1, 2), in[2]);
                  },
                  {randn64({2, 3, 4}, 63), randn64({2, 3, 5}, 64), randn64({2, 5, 2}, 65)});
}

TEST_CASE("attention (channels first): equals attention on transposed operands", "[attention]") {
  // q [B,C,N], k [B,C,M], v [B,D,M] -> [B,D,N]; the reference transposes into the token layout.
  Tensor q = randn64({2, 3, 5}, 70), k = randn64({2, 3, 7}, 71), v = randn64({2, 4, 7}, 72);
  Tensor w = randn64({2, 4, 5}, 73, 1.0, 0.0, false);
  Tensor o = attention_channels_first(q, k, v, 0.8);
  CHECK(o.shape() == Shape({2, 4, 5}));
  sum(mul(o, w)).backward();
  Tensor qr = leaf(q), kr = leaf(k), vr = leaf(v);
  Tensor ref = attention(qr.transpose(1, 2), kr.transpose(1, 2), vr.transpose(1, 2), 0.8)
                   .transpose(1, 2);
  sum(mul(ref, w)).backward();
  test::require_close("o", o, ref, 1e-14, 1e-12);
  test::require_close("dq", q.grad(), qr.grad(), 1e-14, 1e-12);
  test::require_close("dk", k.grad(), kr.grad(), 1e-14, 1e-12);
  test::require_close("dv", v.grad(), vr.grad(), 1e-14, 1e-12);
}

TEST_CASE("attention (channels first): gradient checks and errors", "[attention][grad]") {
  check_gradients("attention channels first",
                  [](const auto& in) { return attention_channels_first(in[0], in[1], in[2]); },
                  {randn64({2, 4, 3}, 80), randn64({2, 4, 5}, 81), randn64({2, 2, 5}, 82)});
  Tensor q = randn64({1, 3, 2}, 83), k = randn64({1, 3, 4}, 84), v = randn64({1, 5, 4}, 85);
  Tensor kc = k.detach().clone(), vc = v.detach().clone();
  check_gradients("attention channels first, dq only",
                  [](const auto& in) { return attention_channels_first(in[0], in[1], in[2], 1.1); },
                  {q, kc, vc});
  Tensor z3 = Tensor::zeros({2, 3, 4}, DType::F64);
  CHECK_THROWS_WITH(attention_channels_first(z3, Tensor::zeros({2, 2, 5}, DType::F64),
                                             Tensor::zeros({2, 6, 5}, DType::F64)),
                    Catch::Contains("q has 3 channels but k has 2"));
  CHECK_THROWS_WITH(attention_channels_first(z3, Tensor::zeros({2, 3, 5}, DType::F64),
                                             Tensor::zeros({2, 6, 4}, DType::F64)),
                    Catch::Contains("5 keys but 4 values"));
  CHECK_THROWS_WITH(attention_channels_first(Tensor::zeros({3, 4}, DType::F64), z3, z3),
                    Catch::Contains("q [B,C,N], k [B,C,M], v [B,D,M]"));
}

TEST_CASE("attention: errors name the problem", "[attention]") {
  Tensor q = Tensor::zeros({2, 4, 3}, DType::F64), k = Tensor::zeros({2, 5, 3}, DType::F64);
  Tensor v = Tensor::zeros({2, 5, 6}, DType::F64);
  CHECK_THROWS_WITH(attention(q, Tensor::zeros({2, 5, 4}, DType::F64), v),
                    Catch::Contains("q has 3 channels but k has 4"));
  CHECK_THROWS_WITH(attention(q, k, Tensor::zeros({2, 4, 6}, DType::F64)),
                    Catch::Contains("5 keys but 4 values"));
  CHECK_THROWS_WITH(attention(q, Tensor::zeros({1, 5, 3}, DType::F64), v),
                    Catch::Contains("batch sizes differ"));
  CHECK_THROWS_WITH(attention(Tensor::zeros({4, 3}, DType::F64), k, v),
                    Catch::Contains("q [B,N,C], k [B,M,C], v [B,M,D]"));
  CHECK_THROWS_WITH(attention(q, k, v.to(DType::F32)), Catch::Contains("differ in dtype"));
  CHECK_THROWS_WITH(attention(q, k, v, std::nan("")), Catch::Contains("scale must be finite"));
  CHECK_THROWS_WITH(attention(q, Tensor::empty({2, 0, 3}, DType::F64),
                              Tensor::empty({2, 0, 6}, DType::F64)),
                    Catch::Contains("empty"));
  CHECK_THROWS_AS(attention(q, k, Tensor()), Error);
}

TEST_CASE("attention: PyTorch parity (float64 golden files)", "[attention][golden]") {
  // attn_a was generated with scale 4^-1/2 = C^-1/2, so it also checks the default (0).
  for (const auto& [name, scale] :
       {std::pair<std::string, double>{"attn_a", 0.0}, {"attn_b", 0.3}}) {
    Tensor q = leaf(golden(name + "_q")), k = leaf(golden(name + "_k"));
    Tensor v = leaf(golden(name + "_v"));
    Tensor o = attention(q, k, v, scale);
    sum(mul(o, golden(name + "_w"))).backward();
    test::require_close(name + " o", o, golden(name + "_o"), 1e-13, 1e-10);
    test::require_close(name + " dq", q.grad(), golden(name + "_dq"), 1e-13, 1e-10);
    test::require_close(name + " dk", k.grad(), golden(name + "_dk"), 1e-13, 1e-10);
    test::require_close(name + " dv", v.grad(), golden(name + "_dv"), 1e-13, 1e-10);
  }
}

TEST_CASE("attention: PyTorch parity in float32 at a UNet shape", "[attention][golden]") {
  const Shape shape = {2, 64, 128};
  Tensor q = leaf(hashed_f32(shape, 201, 1.7, 0.0)), k = leaf(hashed_f32(shape, 202, 1.7, 0.0));
  Tensor v = leaf(hashed_f32(shape, 203, 1.0, 0.2));
  Tensor w = hashed_f32(shape, 204, 1.0, 0.0);
  Tensor o = attention(q, k, v);
  REQUIRE(o.dtype() == DType::F32);
  sum(mul(o, w)).backward();
  test::require_close("o", every_nth(o, 61), golden("attn_unet_o_sub"), 1e-5, 1e-4);
  test::require_close("dq", every_nth(q.grad(), 61), golden("attn_unet_dq_sub"), 2e-5, 1e-3);
  test::require_close("dk", every_nth(k.grad(), 61), golden("attn_unet_dk_sub"), 2e-5, 1e-3);
  test::require_close("dv", every_nth(v.grad(), 61), golden("attn_unet_dv_sub"), 2e-5, 1e-3);
}
