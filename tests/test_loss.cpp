// The loss family (engine/ops/loss.h). The fused S²-DM loss op: equality with the composite
// formula the loss was built from before (one engine op per term) on random inputs with samples
// on both sides of t < skip, a float64 central-difference gradient check, and rejected inputs.
// mse_loss and cross_entropy: values and gradient checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;

namespace {

// The coefficients s2dm_loss derives from t, the schedule, skip and τ.
SkipLossWeights weights_for(const NoiseSchedule& s, const std::vector<int64_t>& t, int64_t skip,
                            double tau) {
  SkipLossWeights w;
  for (int64_t ti : t) {
    const double a_skip = s.alpha_bar(ti) / s.alpha_bar(ti - skip < 0 ? 0 : ti - skip);
    w.c.push_back(std::sqrt((1.0 - a_skip) / a_skip));
    w.w0.push_back(ti < skip ? 1.0 : tau);
    w.wskip.push_back(ti < skip ? 0.0 : 1.0 - tau);
  }
  return w;
}

struct Composite {
  Tensor loss, l0, lskip;
};

// The loss from separate engine ops, as s2dm_loss assembled it before the fused op existed.
Composite composite(const Tensor& out, const Tensor& e1, const Tensor& e2, const SkipLossWeights& w,
                    bool sum_pixels) {
  std::vector<int64_t> pixel_dims;
  for (int64_t d = 1; d < out.dim(); ++d) pixel_dims.push_back(d);
  const auto reduce = [&](const Tensor& sq) {
    return sum_pixels ? sum(sq, pixel_dims) : mean(sq, pixel_dims);
  };
  const auto coef = [&](const std::vector<double>& v, int64_t rank) {
    return per_sample(v, rank, out.dtype(), out.device());
  };
  Composite r;
  r.l0 = reduce(square(sub(e1, out)));
  r.lskip = reduce(square(sub(e2, mul(out, coef(w.c, out.dim())))));
  r.loss = mean(add(mul(r.l0, coef(w.w0, 1)), mul(r.lskip, coef(w.wskip, 1))));
  return r;
}

}  // namespace

TEST_CASE("skip_loss: equals the composite formula, with its gradient", "[loss]") {
  const NoiseSchedule s;
  // Below skip = 9, at it, and past it, in a mixed order.
  const std::vector<int64_t> t = {400, 0, 9, 8, 999, 3, 10};
  for (const Shape& shape : {Shape{7, 3, 8, 8}, Shape{7, 7, 5, 3}, Shape{7, 1}}) {
    for (DType dt : {DType::F64, DType::F32}) {
      // Float32 differs from the float64 reference by rounding only.
      const double rtol = dt == DType::F64 ? 1e-12 : 2e-5, atol = dt == DType::F64 ? 0 : 1e-9;
      const double per = static_cast<double>(shape_numel(shape) / shape[0]);
      const Tensor out = test::randn64(shape, 21, 1.0, 0.0, false).to(dt);
      const Tensor e1 = test::randn64(shape, 22, 1.0, 0.0, false).to(dt);
      const Tensor e2 = test::randn64(shape, 23, 1.0, 0.0, false).to(dt);
      for (double tau : {0.99, 0.3, 1.0}) {
        for (bool sum_pixels : {false, true}) {
          for (bool same_noise : {false, true}) {
            INFO(shape_str(shape) << " " << dtype_name(dt) << " tau " << tau << " sum "
                                  << sum_pixels << " same " << same_noise);
            const SkipLossWeights w = weights_for(s, t, 9, tau);
            // Gradient elements are sums of two terms that may cancel: bound their error by the
            // size of a typical term, 2/(B·P) (mean) or 2/B (sum).
            const double grad_atol = (dt == DType::F64 ? 1e-12 : 1e-5) * 2.0 /
                                     (sum_pixels ? 1.0 : per) / static_cast<double>(shape[0]);
            const Tensor& eps2 = same_noise ? e1 : e2;
            Tensor o_ref = out.clone().set_requires_grad(true);
            const Composite want = composite(o_ref, e1, eps2, w, sum_pixels);
            want.loss.backward();

            Tensor o_op = out.clone().set_requires_grad(true);
            const SkipLossResult got = skip_loss(o_op, e1, eps2, w, sum_pixels);
            CHECK(got.loss.dim() == 0);
            CHECK_FALSE(got.l0.requires_grad());
            CHECK_FALSE(got.lskip.requires_grad());
            CHECK(got.loss.item() == Approx(want.loss.item()).epsilon(rtol));
            test::require_close("l0", got.l0, want.l0.detach(), atol, rtol);
            test::require_close("lskip", got.lskip, want.lskip.detach(), atol, rtol);
            got.loss.backward();
            test::require_close("d out", o_op.grad(), o_ref.grad(), grad_atol, rtol);

            // s2dm_loss derives the same weights from t.
            Tensor o_s2dm = out.clone().set_requires_grad(true);
            const S2dmLoss full = s2dm_loss(s, o_s2dm, e1, e2, t, {9, tau, same_noise, sum_pixels});
            CHECK(full.loss.item() == Approx(want.loss.item()).epsilon(rtol));
            full.loss.backward();
            test::require_close("s2dm_loss d out", o_s2dm.grad(), o_ref.grad(), grad_atol, rtol);
          }
        }
      }
    }
  }
}

TEST_CASE("skip_loss: float64 gradient check through out", "[loss]") {
  const NoiseSchedule s;
  const std::vector<int64_t> t = {2, 9, 150, 990, 5};
  for (const Shape& shape : {Shape{5, 2, 3, 3}, Shape{5, 7}, Shape{5, 1, 1, 1}}) {
    const Tensor out = test::randn64(shape, 24);
    const Tensor e1 = test::randn64(shape, 25, 1.0, 0.0, false);
    const Tensor e2 = test::randn64(shape, 26, 1.0, 0.0, false);
    for (double tau : {0.99, 0.0}) {
      for (bool sum_pixels : {false, true}) {
        for (bool same_noise : {false, true}) {
          INFO(shape_str(shape) << " tau " << tau << " sum " << sum_pixels << " same "
                                << same_noise);
          const SkipLossWeights w = weights_for(s, t, 9, tau);
          const auto loss = [&](const std::vector<Tensor>& in) {
            return skip_loss(in[0], in[1], same_noise ? in[1] : in[2], w, sum_pixels).loss;
          };
          test::check_gradients("skip_loss", loss, {out, e1, e2});
        }
      }
    }
  }
}

TEST_CASE("skip_loss: without a gradient to record, and rejected inputs", "[loss]") {
  const Tensor out = test::randn64({2, 3}, 27, 1.0, 0.0, false);
  const Tensor e = test::randn64({2, 3}, 28, 1.0, 0.0, false);
  const SkipLossWeights w{{0.5, 0.25}, {1.0, 0.9}, {0.0, 0.1}};
  const SkipLossResult r = skip_loss(out, e, e, w);
  CHECK_FALSE(r.loss.requires_grad());
  const Composite want = composite(out, e, e, w, false);
  CHECK(r.loss.item() == Approx(want.loss.item()).epsilon(1e-14));
  {
    NoGradGuard no_grad;
    CHECK_FALSE(skip_loss(out.detach().set_requires_grad(true), e, e, w).loss.requires_grad());
  }

  const Tensor wants_grad = test::randn64({2, 3}, 29);
  CHECK_THROWS_WITH(skip_loss(out, wants_grad, e, w), Catch::Contains("take no gradient"));
  CHECK_THROWS_WITH(skip_loss(out, e, wants_grad, w), Catch::Contains("take no gradient"));
  CHECK_THROWS_WITH(skip_loss(out, e, Tensor(), w), Catch::Contains("eps2 is undefined"));
  CHECK_THROWS_WITH(skip_loss(out, test::randn64({2, 4}, 30), e, w),
                    Catch::Contains("differ in shape"));
  CHECK_THROWS_WITH(skip_loss(out, e, e.to(DType::F32), w), Catch::Contains("dtype"));
  CHECK_THROWS_WITH(skip_loss(out, e, e, {{0.5}, {1.0, 0.9}, {0.0, 0.1}}),
                    Catch::Contains("1 values of c for a batch of 2"));
  CHECK_THROWS_WITH(skip_loss(Tensor::zeros({0, 3}, DType::F64), Tensor::zeros({0, 3}, DType::F64),
                              Tensor::zeros({0, 3}, DType::F64), SkipLossWeights{}),
                    Catch::Contains("non-empty batch"));
}

TEST_CASE("mse_loss: value and gradient check", "[ops][reduce][grad]") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  Tensor b = Tensor::from_vector(std::vector<double>{1, 0, 0}, {3});
  CHECK(mse_loss(a, b).item() == Approx(13.0 / 3.0));
  Tensor x = test::randn64({2, 3, 5, 5}, 31), y = test::randn64({2, 3, 5, 5}, 32);
  test::check_gradients("mse_loss", [](const auto& in) { return mse_loss(in[0], in[1]); }, {x, y});
  CHECK_THROWS_AS(mse_loss(a, Tensor::zeros({4}, DType::F64)), Error);
}

TEST_CASE("cross_entropy: value, extreme logits, gradient check and bad labels", "[ops][loss][grad]") {
  // By hand: mean over rows of log Σ exp(x) − x[y], in long double.
  const Tensor x = test::randn64({5, 7}, 41, 3.0);
  const std::vector<int64_t> y{0, 6, 3, 3, 1};
  const std::vector<double> v = x.to_vector();
  long double want = 0;
  for (int b = 0; b < 5; ++b) {
    long double z = 0;
    for (int k = 0; k < 7; ++k) z += std::exp(static_cast<long double>(v[b * 7 + k]));
    want += std::log(z) - v[b * 7 + y[b]];
  }
  CHECK(cross_entropy(x, y).item() == Approx(static_cast<double>(want / 5)).epsilon(1e-13));

  // Logits far apart in float32: no overflow, and a class of probability 0 gives no NaN.
  const Tensor wide = Tensor::from_vector(std::vector<double>{300, -300, 0, 80, 81, 79}, {2, 3},
                                          DType::F32);
  const double lse2 = 81 + std::log(std::exp(-1.0) + 1.0 + std::exp(-2.0));
  CHECK(cross_entropy(wide, {0, 2}).item() == Approx((0.0 + (lse2 - 79)) / 2).epsilon(1e-6));
  CHECK(cross_entropy(wide, {1, 1}).item() == Approx((600.0 + (lse2 - 81)) / 2).epsilon(1e-6));

  test::check_gradients("cross_entropy", [&](const auto& in) { return cross_entropy(in[0], y); },
                        {x});
  CHECK_THROWS_WITH(cross_entropy(x, {0, 1}), Catch::Contains("2 labels for a batch of 5"));
  CHECK_THROWS_WITH(cross_entropy(x, {0, 1, 2, 3, 7}), Catch::Contains("label 7 of row 4"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({3}, DType::F64), {0, 1, 2}),
                    Catch::Contains("[B, K]"));
}
