// Nearest 2x upsample, constant pad, concat and the timestep embedding: hand-computed values,
// float64 gradient checks, error messages, and parity with PyTorch (tests/golden/gen_resample.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::check_gradients;
using test::randn64;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape, DType::F64);
}

Tensor f64_leaf(const std::vector<double>& v, const Shape& shape) {
  Tensor t = f64(v, shape);
  t.set_requires_grad(true);
  return t;
}

Tensor golden(const std::string& name) {
  return load_npy(test::golden_path("resample/" + name + ".npy"));
}

// Runs `f` on the golden inputs of `name` in float32 and float64 and compares the output and the
// gradients of sum(out * w) with PyTorch's.
void check_parity(const std::string& name, int n_inputs, const test::Fn& f, double y_tol32,
                  double dx_tol32) {
  for (DType dt : {DType::F32, DType::F64}) {
    const std::string tag = dt == DType::F32 ? "f32" : "f64";
    const double y_tol = dt == DType::F32 ? y_tol32 : 1e-12;
    const double dx_tol = dt == DType::F32 ? dx_tol32 : 1e-10;
    INFO(name << " in " << tag);
    std::vector<Tensor> xs;
    for (int i = 0; i < n_inputs; ++i) {
      Tensor x = golden(name + "_x" + std::to_string(i)).to(dt).detach();
      x.set_requires_grad(true);
      xs.push_back(x);
    }
    Tensor y = f(xs);
    CHECK(y.dtype() == dt);
    test::require_close(name + " output", y, golden(name + "_y_" + tag), y_tol, y_tol);
    sum(mul(y, golden(name + "_w").to(dt))).backward();
    for (int i = 0; i < n_inputs; ++i) {
      const std::string gi = std::to_string(i);
      test::require_close(name + " gradient " + gi, xs[static_cast<size_t>(i)].grad(),
                          golden(name + "_dx" + gi + "_" + tag), dx_tol, dx_tol);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- upsample

TEST_CASE("upsample_nearest2x: values and block-sum backward", "[resample]") {
  Tensor x = f64_leaf({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = upsample_nearest2x(x);
  CHECK(y.shape() == Shape{1, 1, 4, 4});
  CHECK(y.to_vector() ==
        std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Each input gradient is the sum of its 2x2 block of the seed 0..15.
  y.backward(Tensor::arange(16, DType::F64).reshape({1, 1, 4, 4}));
  CHECK(x.grad().to_vector() == std::vector<double>{10, 18, 42, 50});

  Tensor xf = Tensor::from_vector(std::vector<float>{-1.5f, 2.25f}, {1, 2, 1, 1});
  CHECK(upsample_nearest2x(xf).dtype() == DType::F32);
  CHECK(upsample_nearest2x(xf).to_vector() ==
        std::vector<double>{-1.5, -1.5, -1.5, -1.5, 2.25, 2.25, 2.25, 2.25});
}

TEST_CASE("upsample_nearest2x: gradient checks with odd sizes", "[resample][grad]") {
  int seed = 100;
  for (const Shape& s :
       {Shape{1, 3, 5, 7}, Shape{2, 2, 4, 4}, Shape{1, 1, 1, 1}, Shape{2, 1, 3, 1}}) {
    check_gradients("upsample " + shape_str(s),
                    [](const auto& in) { return upsample_nearest2x(in[0]); }, {randn64(s, seed++)});
  }
  // A non-contiguous input goes through the same path after a copy.
  check_gradients("upsample of a permuted view",
                  [](const auto& in) { return upsample_nearest2x(in[0].permute({0, 1, 3, 2})); },
                  {randn64({2, 3, 4, 5}, 110)});
}

TEST_CASE("upsample_nearest2x and pad2d: the threaded path matches the definition", "[resample]") {
  // 2·8·32·32 inputs -> 65536 upsampled outputs, above the OpenMP threshold.
  Generator g(7);
  Tensor x = randn({2, 8, 32, 32}, g, DType::F32);
  const auto xv = x.to_vector();
  const auto yv = upsample_nearest2x(x).to_vector();
  size_t bad = 0;
  for (int64_t p = 0; p < 16; ++p)
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < 64; ++j)
        bad += yv[static_cast<size_t>((p * 64 + i) * 64 + j)] !=
               xv[static_cast<size_t>((p * 32 + i / 2) * 32 + j / 2)];
  CHECK(bad == 0);

  Tensor big = randn({4, 8, 40, 30}, g, DType::F64);
  const auto bv = big.to_vector();
  const auto pv = pad2d(big, 3, 2, 1, 4, -2.0).to_vector();  // -> [4, 8, 45, 35]
  bad = 0;
  for (int64_t p = 0; p < 32; ++p)
    for (int64_t i = 0; i < 45; ++i)
      for (int64_t j = 0; j < 35; ++j) {
        const int64_t si = i - 1, sj = j - 3;
        const double want = (si >= 0 && si < 40 && sj >= 0 && sj < 30)
                                ? bv[static_cast<size_t>((p * 40 + si) * 30 + sj)]
                                : -2.0;
        bad += pv[static_cast<size_t>((p * 45 + i) * 35 + j)] != want;
      }
  CHECK(bad == 0);
}

TEST_CASE("upsample_nearest2x: errors", "[resample]") {
  CHECK_THROWS_WITH(upsample_nearest2x(Tensor::zeros({2, 3, 4}, DType::F64)),
                    Catch::Contains("4-D"));
  CHECK_THROWS_WITH(upsample_nearest2x(Tensor::zeros({1, 1, 2, 2}).to(DType::BF16)),
                    Catch::Contains("bfloat16"));
}

// ---------------------------------------------------------------- pad

TEST_CASE("pad2d: values and cropping backward", "[resample]") {
  Tensor x = f64_leaf({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = pad2d(x, 1, 0, 0, 1, -1.0);
  CHECK(y.shape() == Shape{1, 1, 3, 3});
  CHECK(y.to_vector() == std::vector<double>{-1, 1, 2, -1, 3, 4, -1, -1, -1});
  y.backward(Tensor::arange(9, DType::F64).reshape({1, 1, 3, 3}));
  CHECK(x.grad().to_vector() == std::vector<double>{1, 2, 4, 5});

  // The UNet downsample pad: one zero column on the right and one zero row at the bottom.
  Tensor d = pad2d(f64({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3}), 0, 1, 0, 1);
  CHECK(d.to_vector() == std::vector<double>{1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0});

  // Any rank >= 2 pads its last two dims.
  Tensor m = pad2d(f64({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 1, 1, 0, 9.0);
  CHECK(m.shape() == Shape{3, 4});
  CHECK(m.to_vector() == std::vector<double>{9, 9, 9, 9, 1, 2, 3, 9, 4, 5, 6, 9});
  CHECK(pad2d(Tensor::zeros({2, 3, 1, 4, 5}), 1, 1, 2, 2).shape() == Shape{2, 3, 1, 8, 7});

  Tensor xf = Tensor::from_vector(std::vector<float>{0.5f}, {1, 1, 1, 1});
  CHECK(pad2d(xf, 1, 1, 0, 0, 0.25).to_vector() == std::vector<double>{0.25, 0.5, 0.25});
}

TEST_CASE("pad2d: gradient checks with asymmetric pads", "[resample][grad]") {
  Tensor a = randn64({2, 3, 5, 7}, 200);
  check_gradients("pad (0,1,0,1)", [](const auto& in) { return pad2d(in[0], 0, 1, 0, 1); }, {a});
  Tensor b = randn64({1, 2, 4, 3}, 201);
  check_gradients("pad (2,1,3,0) value 0.5",
                  [](const auto& in) { return pad2d(in[0], 2, 1, 3, 0, 0.5); }, {b});
  check_gradients("pad (0,0,0,0)", [](const auto& in) { return pad2d(in[0], 0, 0, 0, 0); }, {b});
  check_gradients("pad of a 3-D tensor",
                  [](const auto& in) { return pad2d(in[0], 1, 2, 0, 3, -1.0); },
                  {randn64({3, 2, 5}, 202)});
}

TEST_CASE("pad2d: errors", "[resample]") {
  Tensor x = Tensor::zeros({1, 1, 2, 2}, DType::F64);
  CHECK_THROWS_WITH(pad2d(x, -1, 0, 0, 0), Catch::Contains("non-negative"));
  CHECK_THROWS_WITH(pad2d(x, 0, 0, 0, -2), Catch::Contains("non-negative"));
  CHECK_THROWS_WITH(pad2d(Tensor::zeros({4}, DType::F64), 1, 1, 1, 1), Catch::Contains("2-D"));
}

// ---------------------------------------------------------------- concat

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

// ---------------------------------------------------------------- timestep embedding

TEST_CASE("timestep_embedding: values", "[embedding]") {
  // dim 4: half 2, f = (1, 1e-4); dim 5 adds a zero column.
  const std::vector<double> ts = {0, 1, 2.5};
  Tensor t = f64(ts, {3});
  const auto e4 = timestep_embedding(t, 4).to_vector();
  const auto e5 = timestep_embedding(t, 5).to_vector();
  for (size_t r = 0; r < ts.size(); ++r) {
    const double tt = ts[r];
    const std::vector<double> want = {std::sin(tt), std::sin(1e-4 * tt), std::cos(tt),
                                      std::cos(1e-4 * tt)};
    for (size_t i = 0; i < 4; ++i) {
      CHECK(e4[r * 4 + i] == Approx(want[i]).margin(1e-15));
      CHECK(e5[r * 5 + i] == Approx(want[i]).margin(1e-15));
    }
    CHECK(e5[r * 5 + 4] == 0.0);
  }
  // dim 6: f = (1, 0.01, 1e-4), in float32.
  Tensor tf = Tensor::from_vector(std::vector<float>{17.25f}, {1});
  const auto e6 = timestep_embedding(tf, 6);
  CHECK(e6.dtype() == DType::F32);
  CHECK(e6.shape() == Shape{1, 6});
  const auto v6 = e6.to_vector();
  const double f6[3] = {1, 0.01, 1e-4};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(v6[i] == Approx(std::sin(17.25 * f6[i])).margin(1e-6));
    CHECK(v6[3 + i] == Approx(std::cos(17.25 * f6[i])).margin(1e-6));
  }
}

TEST_CASE("timestep_embedding: backward value", "[embedding]") {
  // With a seed of ones: dt = Σ f (cos(t f) - sin(t f)), f = (1, 1e-4) for dim 4.
  Tensor t = f64_leaf({0.5, 999}, {2});
  timestep_embedding(t, 5).backward(Tensor::ones({2, 5}, DType::F64));
  const auto dt = t.grad().to_vector();
  for (size_t r = 0; r < 2; ++r) {
    const double tt = r == 0 ? 0.5 : 999.0;
    double want = 0;
    for (double f : {1.0, 1e-4}) want += f * (std::cos(tt * f) - std::sin(tt * f));
    CHECK(dt[r] == Approx(want).margin(1e-14));
  }
}

TEST_CASE("timestep_embedding: gradient checks with fractional t", "[embedding][grad]") {
  const std::vector<double> ts = {0.5, 17.25, 999, 3, 0};
  for (int64_t dim : {4, 8, 9, 33}) {
    Tensor t = f64_leaf(ts, {5});
    check_gradients("timestep_embedding dim " + std::to_string(dim),
                    [dim](const auto& in) { return timestep_embedding(in[0], dim); }, {t});
  }
}

TEST_CASE("timestep_embedding: errors", "[embedding]") {
  Tensor t = Tensor::zeros({3}, DType::F64);
  CHECK_THROWS_WITH(timestep_embedding(t, 3), Catch::Contains("at least 4"));
  CHECK_THROWS_WITH(timestep_embedding(t, -8), Catch::Contains("at least 4"));
  CHECK_THROWS_WITH(timestep_embedding(Tensor::zeros({3, 1}, DType::F64), 8),
                    Catch::Contains("1-D"));
  CHECK_THROWS_WITH(timestep_embedding(t.to(DType::BF16), 8), Catch::Contains("bfloat16"));
}

// ---------------------------------------------------------------- PyTorch parity

TEST_CASE("upsample and pad match PyTorch", "[resample][golden]") {
  check_parity("upsample", 1, [](const auto& in) { return upsample_nearest2x(in[0]); }, 0, 1e-6);
  check_parity("pad_down", 1, [](const auto& in) { return pad2d(in[0], 0, 1, 0, 1); }, 0, 0);
  check_parity("pad_value", 1, [](const auto& in) { return pad2d(in[0], 2, 1, 3, 0, 0.75); }, 0,
               0);
}

TEST_CASE("concat matches PyTorch", "[concat][golden]") {
  check_parity("cat0", 3, [](const auto& in) { return concat(in, 0); }, 0, 0);
  check_parity("cat1", 2, [](const auto& in) { return concat(in, 1); }, 0, 0);
  check_parity("cat_last", 3, [](const auto& in) { return concat(in, -1); }, 0, 0);
}

TEST_CASE("timestep_embedding matches the PyTorch reference", "[embedding][golden]") {
  // float32: a one-ulp difference in exp() for a frequency moves t·f by ~6e-5 at t = 999, so the
  // sin/cos of the largest steps agree to ~1e-5 rather than to float32 rounding.
  for (int dim : {8, 9, 128}) {
    const std::string name = "temb" + std::to_string(dim);
    check_parity(name, 1, [dim](const auto& in) { return timestep_embedding(in[0], dim); }, 1e-4,
                 1e-4);
  }
}
