// Float32 and float64 parity of an op with PyTorch on the golden files of tests/golden/resample/
// (shared by the tests of the resample, concat and embedding families) or of another directory
// written in the same layout (tests/golden/pool/).
#pragma once
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/io/npy.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

namespace s2dm::test {

inline Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape, DType::F64);
}

inline Tensor f64_leaf(const std::vector<double>& v, const Shape& shape) {
  Tensor t = f64(v, shape);
  t.set_requires_grad(true);
  return t;
}

// tests/golden/<dir>/<name>.npy (written by tests/golden/gen_<dir>.py).
inline Tensor resample_golden(const std::string& name, const std::string& dir = "resample") {
  return load_npy(golden_path(dir + "/" + name + ".npy"));
}

// Runs `f` on the golden inputs of `name` in float32 and float64 and compares the output and the
// gradients of sum(out * w) with PyTorch's.
inline void check_parity(const std::string& name, int n_inputs, const Fn& f, double y_tol32,
                         double dx_tol32, const std::string& dir = "resample") {
  for (DType dt : {DType::F32, DType::F64}) {
    const std::string tag = dt == DType::F32 ? "f32" : "f64";
    const double y_tol = dt == DType::F32 ? y_tol32 : 1e-12;
    const double dx_tol = dt == DType::F32 ? dx_tol32 : 1e-10;
    INFO(name << " in " << tag);
    std::vector<Tensor> xs;
    for (int i = 0; i < n_inputs; ++i) {
      Tensor x = resample_golden(name + "_x" + std::to_string(i), dir).to(dt).detach();
      x.set_requires_grad(true);
      xs.push_back(x);
    }
    Tensor y = f(xs);
    CHECK(y.dtype() == dt);
    require_close(name + " output", y, resample_golden(name + "_y_" + tag, dir), y_tol, y_tol);
    sum(mul(y, resample_golden(name + "_w", dir).to(dt))).backward();
    for (int i = 0; i < n_inputs; ++i) {
      const std::string gi = std::to_string(i);
      require_close(name + " gradient " + gi, xs[static_cast<size_t>(i)].grad(),
                    resample_golden(name + "_dx" + gi + "_" + tag, dir), dx_tol, dx_tol);
    }
  }
}

}  // namespace s2dm::test
