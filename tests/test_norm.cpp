// Group norm and fused group norm + SiLU: hand-computed values, per-group statistics,
// float64 gradient checks, error messages and PyTorch parity (tests/golden/gen_norm_attention.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::every_nth;
using test::hashed_f32;
using test::check_gradients;
using test::leaf;
using test::randn64;

namespace {

Tensor golden(const std::string& name) {
  return load_npy(test::golden_path("norm/" + name + ".npy"));
}

Tensor channel_view(const Tensor& p, int64_t rank) {
  Shape s(static_cast<size_t>(rank), 1);
  s[1] = p.size(0);
  return p.reshape(s);
}

double sigmoid_ref(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace

TEST_CASE("group_norm: hand-computed values", "[norm]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {1, 2, 2});
  // One group: mean 2.5, biased variance 1.25.
  const auto y1 = group_norm(x, 1, Tensor(), Tensor()).to_vector();
  const double r1 = 1.0 / std::sqrt(1.25 + 1e-6);
  for (int i = 0; i < 4; ++i) CHECK(y1[static_cast<size_t>(i)] == Approx((i + 1 - 2.5) * r1));
  // Two groups {1,2} and {3,4}: mean 1.5 / 3.5, variance 0.25; gamma {2,-1}, beta {0.5,3}.
  Tensor gamma = Tensor::from_vector(std::vector<double>{2, -1}, {2});
  Tensor beta = Tensor::from_vector(std::vector<double>{0.5, 3}, {2});
  const double r2 = 1.0 / std::sqrt(0.25 + 1e-6);
  const std::vector<double> expect = {2 * -0.5 * r2 + 0.5, 2 * 0.5 * r2 + 0.5, -1 * -0.5 * r2 + 3,
                                      -1 * 0.5 * r2 + 3};
  const auto y2 = group_norm(x, 2, gamma, beta).to_vector();
  const auto y2s = group_norm_silu(x, 2, gamma, beta).to_vector();
  for (size_t i = 0; i < 4; ++i) {
    CHECK(y2[i] == Approx(expect[i]).epsilon(1e-12));
    CHECK(y2s[i] == Approx(expect[i] * sigmoid_ref(expect[i])).epsilon(1e-12));
  }
  // A custom eps enters the variance.
  CHECK(group_norm(x, 1, Tensor(), Tensor(), 0.75).to_vector()[0] == Approx(-1.5 / std::sqrt(2.0)));
}

TEST_CASE("group_norm: zero mean and unit variance per group, affine and dtype consistency",
          "[norm]") {
  const int64_t n = 3, c = 8, h = 5, w = 7;
  const int groups = 4;
  Tensor x = randn64({n, c, h, w}, 101, 3.0, 2.0, false);
  Tensor y = group_norm(x, groups, Tensor(), Tensor());
  const auto v = y.to_vector();
  const int64_t per_group = (c / groups) * h * w;
  for (int64_t i = 0; i < n * groups; ++i) {
    double s = 0, sq = 0;
    for (int64_t j = 0; j < per_group; ++j) s += v[static_cast<size_t>(i * per_group + j)];
    const double mu = s / static_cast<double>(per_group);
    for (int64_t j = 0; j < per_group; ++j) {
      const double d = v[static_cast<size_t>(i * per_group + j)] - mu;
      sq += d * d;
    }
    CHECK(std::abs(mu) < 1e-12);
    CHECK(sq / static_cast<double>(per_group) == Approx(1.0).epsilon(1e-6));
  }
  // Identity affine parameters change nothing; others apply gamma·y + beta per channel.
  Tensor ones = Tensor::ones({c}, DType::F64), zeros = Tensor::zeros({c}, DType::F64);
  CHECK(test::max_abs_diff(group_norm(x, groups, ones, zeros), y) < 1e-14);
  Tensor gamma = randn64({c}, 102, 0.5, 1.0, false), beta = randn64({c}, 103, 0.5, 0.0, false);
  Tensor expect = add(mul(y, channel_view(gamma, 4)), channel_view(beta, 4));
  test::require_close("affine", group_norm(x, groups, gamma, beta), expect, 1e-12, 1e-12);
  test::require_close("fused silu", group_norm_silu(x, groups, gamma, beta), silu(expect), 1e-12,
                      1e-12);
  test::require_close("gamma only", group_norm(x, groups, gamma, Tensor()),
                      mul(y, channel_view(gamma, 4)), 1e-12, 1e-12);
  test::require_close("beta only", group_norm(x, groups, Tensor(), beta),
                      add(y, channel_view(beta, 4)), 1e-12, 1e-12);
  // float32 agrees with float64 to float32 precision.
  Tensor y32 = group_norm_silu(x.to(DType::F32), groups, gamma.to(DType::F32), beta.to(DType::F32));
  CHECK(y32.dtype() == DType::F32);
  test::require_close("float32", y32, silu(expect), 1e-5, 1e-5);
}

TEST_CASE("group_norm: any number of trailing dims", "[norm]") {
  Tensor beta = Tensor::from_vector(std::vector<double>{0.25, -1, 3}, {3});
  // No spatial dims and one channel per group: x - mean is 0, so y is exactly beta.
  Tensor x2 = randn64({2, 3}, 111, 1.0, 0.0, false);
  CHECK(group_norm(x2, 3, Tensor(), beta).to_vector() ==
        std::vector<double>{0.25, -1, 3, 0.25, -1, 3});
  // [N, C, L] and [N, C, D, H, W] agree with the same data reshaped to [N, C, L·...].
  Tensor x3 = randn64({2, 6, 24}, 112, 1.0, 0.0, false);
  Tensor x5 = x3.reshape({2, 6, 2, 3, 4});
  Tensor g = randn64({6}, 113, 0.3, 1.0, false), b = randn64({6}, 114, 0.3, 0.0, false);
  CHECK(test::max_abs_diff(group_norm_silu(x5, 2, g, b).reshape({2, 6, 24}),
                           group_norm_silu(x3, 2, g, b)) == 0.0);
  // Non-contiguous input (a permuted view) is normalised like its contiguous copy.
  Tensor base = randn64({5, 3, 2, 6}, 115, 1.0, 0.0, false);
  Tensor xp = base.permute({2, 3, 0, 1});
  CHECK(test::max_abs_diff(group_norm(xp, 3, g, b), group_norm(xp.contiguous(), 3, g, b)) == 0.0);
}

TEST_CASE("group_norm and group_norm_silu: gradient checks", "[norm][grad]") {
  struct Case {
    Shape shape;
    int groups;
  };
  const std::vector<Case> cases = {
      {{2, 6, 5, 3}, 3},  // odd spatial extent
      {{1, 4, 7}, 2},     // 1-d spatial
      {{2, 5, 3, 2}, 1},  // one group
      {{3, 4, 2, 3}, 4},  // one channel per group
      {{2, 6}, 2},        // no spatial dims
  };
  uint64_t seed = 200;
  for (const auto& [shape, groups] : cases) {
    const int g = groups;
    const std::string tag = shape_str(shape) + " G=" + std::to_string(g);
    Tensor x = randn64(shape, seed++, 1.5, 0.3);
    Tensor gamma = randn64({shape[1]}, seed++, 0.3, 1.0);
    Tensor beta = randn64({shape[1]}, seed++, 0.2, 0.0);
    auto gn = [g](const auto& in) { return group_norm(in[0], g, in[1], in[2]); };
    auto gns = [g](const auto& in) { return group_norm_silu(in[0], g, in[1], in[2]); };
    check_gradients("group_norm " + tag, gn, {x, gamma, beta});
    check_gradients("group_norm_silu " + tag, gns, {x, gamma, beta});
    check_gradients("group_norm no affine " + tag, gn, {x, Tensor(), Tensor()});
    check_gradients("group_norm_silu no affine " + tag, gns, {x, Tensor(), Tensor()});
    check_gradients("group_norm_silu gamma only " + tag, gns, {x, gamma, Tensor()});
    check_gradients("group_norm_silu beta only " + tag, gns, {x, Tensor(), beta});
  }
  // The fused per-channel add (the ResBlock's time embedding): equal to adding first, and its
  // gradient, alone and with every other input.
  {
    Tensor xa = randn64({2, 6, 3, 3}, 260), add = randn64({2, 6}, 261, 0.7, 0.2);
    Tensor gamma = randn64({6}, 262, 0.3, 1.0), beta = randn64({6}, 263, 0.2, 0.0);
    test::require_close("channel_add = adding first",
                        group_norm_silu(xa, 3, gamma, beta, 1e-6, add),
                        group_norm_silu(s2dm::add(xa, add.reshape({2, 6, 1, 1})), 3, gamma, beta),
                        1e-12, 1e-12);
    auto gna = [](const auto& in) { return group_norm_silu(in[0], 3, in[1], in[2], 1e-6, in[3]); };
    check_gradients("group_norm_silu channel_add", gna, {xa, gamma, beta, add});
    check_gradients("group_norm_silu channel_add only",
                    gna, {xa.detach().clone(), gamma.detach().clone(), Tensor(), add});
    Tensor x1 = randn64({3, 4, 5}, 264), add1 = randn64({3, 4}, 265);
    check_gradients("group_norm_silu channel_add rank 3",
                    [](const auto& in) {
                      return group_norm_silu(in[0], 2, Tensor(), Tensor(), 1e-6, in[1]);
                    },
                    {x1, add1});
  }
  // Only the affine parameters need gradients (backward then skips dx), and only x does.
  Tensor x = randn64({2, 6, 3, 3}, 250, 1.0, 0.0, false);
  Tensor gamma = randn64({6}, 251, 0.3, 1.0), beta = randn64({6}, 252, 0.2, 0.0);
  auto gns = [](const auto& in) { return group_norm_silu(in[0], 3, in[1], in[2]); };
  check_gradients("group_norm_silu params only", gns, {x, gamma, beta});
  check_gradients("group_norm params only",
                  [](const auto& in) { return group_norm(in[0], 3, in[1], in[2]); },
                  {x, gamma, beta});
  Tensor xg = randn64({2, 6, 3, 3}, 253);
  check_gradients("group_norm_silu x only", gns,
                  {xg, gamma.detach().clone(), beta.detach().clone()});
  // A permuted (non-contiguous) input inside the graph.
  check_gradients("group_norm_silu of a permuted view",
                  [](const auto& in) {
                    return group_norm_silu(in[0].permute({2, 3, 0, 1}), 3, in[1], in[2]);
                  },
                  {randn64({5, 3, 2, 6}, 254), gamma, beta});
}

TEST_CASE("group_norm_silu: node and parameter gradients against the unfused formula",
          "[norm][grad]") {
  Tensor x = randn64({2, 4, 3}, 260), gamma = randn64({4}, 261), beta = randn64({4}, 262);
  Tensor y = group_norm_silu(x, 2, gamma, beta);
  REQUIRE(y.grad_fn() != nullptr);
  CHECK(std::string(y.grad_fn()->name()) == "GroupNormSiluBackward");
  sum(y).backward();
  REQUIRE(x.grad().shape() == x.shape());
  // d/dbeta_c Σ silu(z) = Σ_{n,l} silu'(z[n,c,l]) with z the affine group norm output.
  const auto z = group_norm(x.detach(), 2, gamma.detach(), beta.detach()).to_vector();
  std::vector<double> expect(4, 0.0);
  for (size_t i = 0; i < z.size(); ++i) {
    const double s = sigmoid_ref(z[i]);
    expect[(i / 3) % 4] += s * (1 + z[i] * (1 - s));
  }
  test::require_close("dbeta", beta.grad(), Tensor::from_vector(expect, {4}), 1e-12, 1e-12);
  CHECK(gamma.grad().shape() == Shape{4});
}

TEST_CASE("group_norm: errors name the problem", "[norm]") {
  Tensor x = Tensor::zeros({2, 6, 4, 4}, DType::F64);
  CHECK_THROWS_WITH(group_norm(x, 4, Tensor(), Tensor()),
                    Catch::Contains("6 channels are not divisible by 4 groups"));
  CHECK_THROWS_WITH(group_norm_silu(x, 0, Tensor(), Tensor()),
                    Catch::Contains("groups must be positive"));
  CHECK_THROWS_WITH(group_norm(x, 3, Tensor::ones({5}, DType::F64), Tensor()),
                    Catch::Contains("gamma must have shape [6]"));
  CHECK_THROWS_WITH(group_norm(x, 3, Tensor(), Tensor::zeros({6, 1}, DType::F64)),
                    Catch::Contains("beta must have shape [6]"));
  CHECK_THROWS_WITH(group_norm(Tensor::zeros({6}, DType::F64), 3, Tensor(), Tensor()),
                    Catch::Contains("[N, C, *]"));
  CHECK_THROWS_WITH(group_norm(x, 3, Tensor::ones({6}, DType::F32), Tensor()),
                    Catch::Contains("differ in dtype"));
  CHECK_THROWS_WITH(group_norm(x, 3, Tensor(), Tensor(), -1.0), Catch::Contains("eps"));
  CHECK_THROWS_WITH(group_norm(Tensor::empty({2, 6, 0}, DType::F64), 3, Tensor(), Tensor()),
                    Catch::Contains("empty spatial dim"));
  CHECK_THROWS_AS(group_norm(x.to(DType::BF16), 3, Tensor(), Tensor()), Error);
}

TEST_CASE("group_norm: PyTorch parity (float64 golden files)", "[norm][golden]") {
  struct Case {
    const char* name;
    int groups;
    bool affine, fused;
  };
  for (const Case& c : {Case{"gn_affine", 3, true, false}, Case{"gn_silu", 4, true, true},
                        Case{"gn_plain", 2, false, false}, Case{"gn_plain_silu", 6, false, true}}) {
    const std::string n = c.name;
    Tensor x = leaf(golden(n + "_x"));
    Tensor gamma = c.affine ? leaf(golden(n + "_gamma")) : Tensor();
    Tensor beta = c.affine ? leaf(golden(n + "_beta")) : Tensor();
    Tensor y = c.fused ? group_norm_silu(x, c.groups, gamma, beta)
                       : group_norm(x, c.groups, gamma, beta);
    sum(mul(y, golden(n + "_w"))).backward();
    test::require_close(n + " y", y, golden(n + "_y"), 1e-11, 1e-9);
    test::require_close(n + " dx", x.grad(), golden(n + "_dx"), 1e-11, 1e-9);
    if (c.affine) {
      test::require_close(n + " dgamma", gamma.grad(), golden(n + "_dgamma"), 1e-11, 1e-9);
      test::require_close(n + " dbeta", beta.grad(), golden(n + "_dbeta"), 1e-11, 1e-9);
    }
  }
}

TEST_CASE("group_norm_silu: PyTorch parity in float32 at a UNet shape", "[norm][golden]") {
  const Shape shape = {2, 128, 16, 16};
  Tensor x = leaf(hashed_f32(shape, 101, 1.5, 0.3));
  Tensor gamma = leaf(hashed_f32({128}, 102, 0.2, 1.0));
  Tensor beta = leaf(hashed_f32({128}, 103, 0.1, 0.0));
  Tensor w = hashed_f32(shape, 104, 1.0, 0.0);
  Tensor y = group_norm_silu(x, 32, gamma, beta);
  REQUIRE(y.dtype() == DType::F32);
  sum(mul(y, w)).backward();
  test::require_close("y", every_nth(y, 61), golden("gn_unet_y_sub"), 2e-5, 1e-4);
  test::require_close("dx", every_nth(x.grad(), 61), golden("gn_unet_dx_sub"), 2e-5, 1e-4);
  test::require_close("dgamma", gamma.grad(), golden("gn_unet_dgamma"), 1e-4, 1e-4);
  test::require_close("dbeta", beta.grad(), golden("gn_unet_dbeta"), 1e-4, 1e-4);
}

