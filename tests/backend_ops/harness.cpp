// The harness mechanics: guarded outputs, comparison, timing.
#include "tests/backend_ops/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "tests/hashed_values.h"

namespace s2dm::backend_ops {

namespace {
constexpr int64_t kGuard = 61;          // elements on each side of an output
constexpr double kSentinel = -0x1.5p+70;  // exactly representable in float32 and bfloat16
}  // namespace

Tensor OpContext::input(const Shape& shape, uint64_t seed, double scale, double shift) {
  return input(shape, seed, scale, shift, dtype_);
}

Tensor OpContext::input(const Shape& shape, uint64_t seed, double scale, double shift,
                        DType dtype) {
  Tensor t = Tensor::from_vector(test::hashed_values(shape_numel(shape), seed, scale, shift), shape,
                                 dtype, device());
  bytes_ += static_cast<double>(t.nbytes());
  return t;
}

Tensor OpContext::values(const std::vector<double>& v, const Shape& shape) {
  return values(v, shape, dtype_);
}

Tensor OpContext::values(const std::vector<double>& v, const Shape& shape, DType dtype) {
  Tensor t = Tensor::from_vector(v, shape, dtype, device());
  bytes_ += static_cast<double>(t.nbytes());
  return t;
}

Tensor OpContext::output(const Shape& shape) { return output(shape, dtype_); }

Tensor OpContext::output(const Shape& shape, DType dtype) {
  const int64_t n = shape_numel(shape);
  Guarded g;
  g.storage = Tensor::empty({n + 2 * kGuard}, dtype, device());
  backend_.fill(g.storage, kSentinel);
  g.view = g.storage.slice(0, kGuard, kGuard + n).view(shape);
  backend_.fill(g.view, std::numeric_limits<double>::quiet_NaN());
  bytes_ += static_cast<double>(g.view.nbytes());
  outputs_.push_back(g);
  return g.view;
}

Tensor OpContext::inout(const Shape& shape, uint64_t seed, double scale, double shift) {
  Tensor t = output(shape);
  t.copy_(input(shape, seed, scale, shift));
  return t;
}

std::vector<std::vector<double>> OpContext::results() const {
  std::vector<std::vector<double>> r;
  for (const Guarded& g : outputs_) r.push_back(g.view.to_vector());
  return r;
}

std::vector<std::string> OpContext::guard_violations() const {
  std::vector<std::string> bad;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const std::vector<double> all = outputs_[i].storage.to_vector();
    const size_t n = all.size();
    for (size_t j = 0; j < static_cast<size_t>(kGuard); ++j) {
      if (all[j] != kSentinel || all[n - 1 - j] != kSentinel) {
        bad.push_back(fmt::format("output {} {}: write outside its bounds", i,
                                  outputs_[i].view.str()));
        break;
      }
    }
  }
  return bad;
}

void OpContext::sync() {
  // A copy to the host waits for the device's stream.
  (void)Tensor::zeros({1}, DType::F32, device()).to(Device::cpu());
}

namespace {
// Parity checks run matrix products in full float32: TF32 rounding is cuBLAS's and cuDNN's, and
// would hide a kernel's error under its own. (Whole training steps under TF32 are checked in
// tests/test_device_step.cpp.)
struct FullFloat32 {
  bool was = tf32_enabled();
  FullFloat32() { set_tf32_enabled(false); }
  ~FullFloat32() { set_tf32_enabled(was); }
};
}  // namespace

CheckResult check_case(const OpCase& c, Backend& backend, DType dtype) {
  FullFloat32 fp32;
  CheckResult r;
  OpContext ref_ctx(backend_for(Device::cpu()), dtype), ctx(backend, dtype);
  c.make(ref_ctx)();
  c.make(ctx)();
  const auto expect = ref_ctx.results(), got = ctx.results();
  const auto fail = [&](std::string msg) {
    r.ok = false;
    if (!r.message.empty()) r.message += "; ";
    r.message += msg;
  };
  for (const std::string& g : ctx.guard_violations()) fail(g);
  if (expect.size() != got.size()) {
    fail(fmt::format("{} results, reference has {}", got.size(), expect.size()));
    return r;
  }
  const double tol = dtype == DType::F64 ? c.max_nmse * 1e-16 : c.max_nmse;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = 0, ref = 0;
    int64_t bad_values = 0;
    for (size_t j = 0; j < got[i].size(); ++j) {
      const double e = expect[i][j], g = got[i][j];
      if (!std::isfinite(g) && !(std::isnan(e) ? std::isnan(g) : e == g)) ++bad_values;
      if (!std::isfinite(e) || !std::isfinite(g)) continue;
      err += (g - e) * (g - e);
      ref += e * e;
    }
    const double nmse = err / std::max(ref, 1e-300);
    r.worst_nmse = std::max(r.worst_nmse, nmse);
    if (bad_values > 0)
      fail(fmt::format("result {}: {} NaN/Inf values the reference does not have", i, bad_values));
    if (c.max_nmse == 0 ? err != 0 : nmse > tol)
      fail(fmt::format("result {}: NMSE {:.3g} > {:.3g}", i, nmse, tol));
  }
  return r;
}

double time_case(const OpCase& c, Backend& backend, DType dtype, int warmup, int runs,
                 double* bytes) {
  OpContext ctx(backend, dtype);
  const OpRun run = c.make(ctx);
  for (int i = 0; i < warmup; ++i) run();
  ctx.sync();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    ctx.sync();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (bytes != nullptr) *bytes = ctx.bytes_touched();
  std::sort(times.begin(), times.end());
  return times.empty() ? 0.0 : times[times.size() / 2];
}

}  // namespace s2dm::backend_ops
