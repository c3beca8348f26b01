// The direct 3x3 float32 convolution (engine/cpu/conv3x3_direct.*) against a float64 loop
// reference: forward with and without bias and the input gradient, for every width it handles,
// channel counts that leave partial output-channel blocks, one and several samples, and heights
// that are not widths. The CPU backend routes float32 3x3 stride-1 padding-1 convolutions of
// these widths here; its float64 path (im2col + GEMM) has the finite-difference checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/cpu/conv3x3_direct.h"
#include "tests/hashed_values.h"

namespace {

struct Case {
  int64_t n, ci, co, h, w;
};

std::vector<float> values(int64_t count, uint64_t seed) {
  const std::vector<double> d = s2dm::test::hashed_values(count, seed, 1.0, 0.0);
  return std::vector<float>(d.begin(), d.end());
}

// y[n][o][r][c] = Σ_i Σ_kh Σ_kw x[n][i][r+kh-1][c+kw-1] · w[o][i][kh][kw] (+ bias[o]), in double.
std::vector<double> reference_forward(const Case& k, const std::vector<float>& x,
                                      const std::vector<float>& w, const float* bias) {
  std::vector<double> y(static_cast<size_t>(k.n * k.co * k.h * k.w));
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t o = 0; o < k.co; ++o)
      for (int64_t r = 0; r < k.h; ++r)
        for (int64_t c = 0; c < k.w; ++c) {
          double s = bias != nullptr ? bias[o] : 0.0;
          for (int64_t i = 0; i < k.ci; ++i)
            for (int64_t kh = 0; kh < 3; ++kh)
              for (int64_t kw = 0; kw < 3; ++kw) {
                const int64_t rr = r + kh - 1, cc = c + kw - 1;
                if (rr < 0 || rr >= k.h || cc < 0 || cc >= k.w) continue;
                const size_t xi = static_cast<size_t>(((n * k.ci + i) * k.h + rr) * k.w + cc);
                s += static_cast<double>(x[xi]) *
                     w[static_cast<size_t>(((o * k.ci + i) * 3 + kh) * 3 + kw)];
              }
          y[static_cast<size_t>(((n * k.co + o) * k.h + r) * k.w + c)] = s;
        }
  return y;
}

// dx = Σ over the outputs each input feeds: the transpose of reference_forward.
std::vector<double> reference_input_grad(const Case& k, const std::vector<float>& w,
                                         const std::vector<float>& dy) {
  std::vector<double> dx(static_cast<size_t>(k.n * k.ci * k.h * k.w), 0.0);
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t o = 0; o < k.co; ++o)
      for (int64_t r = 0; r < k.h; ++r)
        for (int64_t c = 0; c < k.w; ++c) {
          const double g = dy[static_cast<size_t>(((n * k.co + o) * k.h + r) * k.w + c)];
          for (int64_t i = 0; i < k.ci; ++i)
            for (int64_t kh = 0; kh < 3; ++kh)
              for (int64_t kw = 0; kw < 3; ++kw) {
                const int64_t rr = r + kh - 1, cc = c + kw - 1;
                if (rr < 0 || rr >= k.h || cc < 0 || cc >= k.w) continue;
                dx[static_cast<size_t>(((n * k.ci + i) * k.h + rr) * k.w + cc)] +=
                    g * w[static_cast<size_t>(((o * k.ci + i) * 3 + kh) * 3 + kw)];
              }
        }
  return dx;
}

// Largest |got − want| relative to the largest |want|; infinite when any value is not finite
// (the outputs start as NaN, so an element never written shows here).
double max_rel_error(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    err = std::max(err, std::abs(got[i] - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return err / scale;
}

}  // namespace

TEST_CASE("direct 3x3 conv: widths it handles", "[conv]") {
  using s2dm::cpu::conv3x3_direct_handles;
  CHECK(conv3x3_direct_handles(16));
  CHECK(conv3x3_direct_handles(32));
  CHECK_FALSE(conv3x3_direct_handles(8));  // im2col + GEMM measured faster there
  CHECK_FALSE(conv3x3_direct_handles(4));
  CHECK_FALSE(conv3x3_direct_handles(28));
  CHECK_FALSE(conv3x3_direct_handles(64));
}

TEST_CASE("direct 3x3 conv: forward and input gradient match a float64 reference", "[conv]") {
  const Case cases[] = {
      {1, 1, 1, 1, 16},   {2, 3, 5, 5, 16},   {3, 7, 17, 8, 16}, {1, 16, 16, 16, 16},
      {2, 5, 33, 3, 16},  {1, 2, 9, 32, 32},  {4, 32, 32, 32, 32}, {2, 9, 20, 7, 32},
      {3, 4, 4, 1, 32},
  };
  for (const Case& k : cases) {
    INFO("n " << k.n << " ci " << k.ci << " co " << k.co << " h " << k.h << " w " << k.w);
    const auto x = values(k.n * k.ci * k.h * k.w, 1);
    const auto w = values(k.co * k.ci * 9, 2);
    const auto bias = values(k.co, 3);
    const auto dy = values(k.n * k.co * k.h * k.w, 4);
    // NaN-filled outputs: every element must be written.
    std::vector<float> y(static_cast<size_t>(k.n * k.co * k.h * k.w), NAN);
    s2dm::cpu::conv3x3_direct_forward(x.data(), w.data(), bias.data(), k.n, k.ci, k.co, k.h, k.w,
                                      y.data());
    CHECK(max_rel_error(y, reference_forward(k, x, w, bias.data())) < 1e-5);
    std::vector<float> y0(y.size(), NAN);
    s2dm::cpu::conv3x3_direct_forward(x.data(), w.data(), nullptr, k.n, k.ci, k.co, k.h, k.w,
                                      y0.data());
    CHECK(max_rel_error(y0, reference_forward(k, x, w, nullptr)) < 1e-5);
    std::vector<float> dx(x.size(), NAN);
    s2dm::cpu::conv3x3_direct_input_grad(w.data(), dy.data(), k.n, k.ci, k.co, k.h, k.w,
                                         dx.data());
    CHECK(max_rel_error(dx, reference_input_grad(k, w, dy)) < 1e-5);
  }
}
