// Softmax over any dim: values, numerical stability, float64 gradient checks, the threaded path
// and PyTorch parity (tests/golden/gen_norm_attention.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace s2dm;
using test::check_gradients;
using test::leaf;
using test::randn64;

namespace {

Tensor golden(const std::string& name) {
  return load_npy(test::golden_path("norm/" + name + ".npy"));
}

}  // namespace

TEST_CASE("softmax: values, stability and dims", "[softmax]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const auto y = softmax(x).to_vector();
  for (size_t i = 0; i < 3; ++i) CHECK(y[i] == Approx(std::exp(static_cast<double>(i + 1)) / z));
  // Max subtraction: huge logits give the same result as their shifted copies.
  Tensor big = Tensor::from_vector(std::vector<double>{1000, 1001, 1002}, {3});
  test::require_close("shifted", softmax(big), softmax(x), 1e-15, 1e-12);
  Tensor big32 = Tensor::from_vector(std::vector<float>{1e4f, 1e4f + 1, 1e4f + 2}, {3});
  test::require_close("float32 shifted", softmax(big32), softmax(x), 1e-6, 1e-6);

  Tensor m = randn64({3, 4, 5}, 301, 2.0, 0.0, false);
  for (int64_t d : {0, 1, 2, -1, -3}) {
    const auto v = softmax(m, d).to_vector();
    const int64_t dd = d < 0 ? d + 3 : d;
    const Strides st = contiguous_strides(m.shape());
    // Every line along dim dd sums to 1 and equals exp(x)/Σexp(x).
    const auto xv = m.to_vector();
    for (int64_t i = 0; i < m.numel(); ++i) {
      if ((i / st[static_cast<size_t>(dd)]) % m.size(dd) != 0) continue;  // line starts only
      double s = 0, sx = 0;
      for (int64_t j = 0; j < m.size(dd); ++j) {
        s += v[static_cast<size_t>(i + j * st[static_cast<size_t>(dd)])];
        sx += std::exp(xv[static_cast<size_t>(i + j * st[static_cast<size_t>(dd)])]);
      }
      CHECK(s == Approx(1.0).epsilon(1e-14));
      CHECK(v[static_cast<size_t>(i)] == Approx(std::exp(xv[static_cast<size_t>(i)]) / sx));
    }
  }
  test::require_close("float32", softmax(m.to(DType::F32), 1), softmax(m, 1), 1e-6, 1e-5);
  CHECK(softmax(Tensor::full({}, 3.0, DType::F64)).item() == 1.0);
  CHECK_THROWS_WITH(softmax(m, 3), Catch::Contains("dim 3 is out of range"));
  CHECK_THROWS_WITH(softmax(m, -4), Catch::Contains("out of range"));
}

TEST_CASE("softmax: gradient checks", "[softmax][grad]") {
  Tensor x = randn64({3, 4, 5}, 310, 1.5);
  for (int64_t d : {0, 1, -1}) {
    check_gradients("softmax dim " + std::to_string(d),
                    [d](const auto& in) { return softmax(in[0], d); }, {x});
  }
  check_gradients("softmax 1-d", [](const auto& in) { return softmax(in[0]); },
                  {randn64({7}, 311)});
  check_gradients("softmax of one element", [](const auto& in) { return softmax(in[0], 0); },
                  {randn64({1, 1}, 312)});
  check_gradients("softmax of a transposed view",
                  [](const auto& in) { return softmax(in[0].transpose(0, 1), -1); },
                  {randn64({6, 3}, 313)});
}

TEST_CASE("softmax: large enough to run in parallel, against exp(x)/Σexp(x)", "[softmax]") {
  Tensor x = randn64({96, 700}, 320, 2.0);
  Tensor xr = x.detach().clone().set_requires_grad(true);
  Tensor w = randn64({96, 700}, 321, 1.0, 0.0, false);
  Tensor y = softmax(x);
  Tensor ex = exp(xr);
  Tensor ref = div(ex, sum(ex, {-1}, true));
  test::require_close("y", y, ref, 1e-17, 1e-12);
  sum(mul(y, w)).backward();
  sum(mul(ref, w)).backward();
  test::require_close("dx", x.grad(), xr.grad(), 1e-16, 1e-10);
}

TEST_CASE("softmax: PyTorch parity (float64 golden files)", "[softmax][golden]") {
  for (const auto& [tag, dim] : {std::pair<std::string, int64_t>{"last", -1}, {"dim1", 1}}) {
    Tensor x = leaf(golden("softmax_x"));
    Tensor y = softmax(x, dim);
    sum(mul(y, golden("softmax_w"))).backward();
    test::require_close("softmax " + tag + " y", y, golden("softmax_" + tag + "_y"), 1e-14, 1e-11);
    test::require_close("softmax " + tag + " dx", x.grad(), golden("softmax_" + tag + "_dx"), 1e-13,
                        1e-10);
  }
}
