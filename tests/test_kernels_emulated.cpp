// Handwritten CUDA kernels run on the SIMT emulator against the CPU backend (the reference):
// Philox fills bit for bit; GroupNorm(+SiLU) forward and backward within NMSE tolerances at UNet
// and odd shapes. Every output buffer carries sentinel guard regions on both sides and starts
// as NaN, so out-of-bounds writes and unwritten elements both fail.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "kernels/group_norm.cuh"
#include "kernels/random_fill.cuh"

#include "tests/gradcheck.h"

using namespace s2dm;

namespace {

// A device-style output buffer: n elements between two guard regions of sentinel bytes.
template <typename T>
class Guarded {
 public:
  static constexpr size_t kGuard = 67;
  static constexpr unsigned char kSentinel = 0xA5;

  explicit Guarded(size_t n) : n_(n), bytes_((n + 2 * kGuard) * sizeof(T), kSentinel) {
    const T nan = std::numeric_limits<T>::quiet_NaN();
    for (size_t i = 0; i < n_; ++i) std::memcpy(data() + i, &nan, sizeof(T));
  }
  T* data() { return reinterpret_cast<T*>(bytes_.data()) + kGuard; }
  const T* data() const { return reinterpret_cast<const T*>(bytes_.data()) + kGuard; }
  size_t size() const { return n_; }
  bool guards_intact() const {
    const size_t guard_bytes = kGuard * sizeof(T), tail = guard_bytes + n_ * sizeof(T);
    for (size_t i = 0; i < guard_bytes; ++i)
      if (bytes_[i] != kSentinel || bytes_[tail + i] != kSentinel) return false;
    return true;
  }

 private:
  size_t n_;
  // Bytes rather than T so the guards hold a pattern no arithmetic result is likely to produce;
  // std::vector<unsigned char> is suitably aligned for float and double (operator new).
  std::vector<unsigned char> bytes_;
};

template <typename T>
DType dtype_of() {
  return sizeof(T) == 4 ? DType::F32 : DType::F64;
}

Backend& cpu() { return backend_for(Device::cpu()); }

template <typename T>
void check_fill_parity(int64_t n, uint64_t seed, uint64_t offset) {
  INFO("n " << n << " seed " << seed << " offset " << offset << " bytes " << sizeof(T));
  const struct {
    bool normal;
    double a, b;
  } cases[] = {{false, 0.0, 1.0}, {false, -2.0, 3.0}, {true, 0.0, 1.0}, {true, 0.5, 2.0}};
  for (const auto& c : cases) {
    INFO((c.normal ? "normal" : "uniform") << " " << c.a << " " << c.b);
    Tensor expect = Tensor::empty({n}, dtype_of<T>());
    Guarded<T> got(static_cast<size_t>(n));
    if (c.normal) {
      cpu().fill_normal(expect, seed, offset, c.a, c.b);
      kernels::launch_fill_normal<T>(got.data(), n, seed, offset, c.a, c.b, nullptr);
    } else {
      cpu().fill_uniform(expect, seed, offset, c.a, c.b);
      kernels::launch_fill_uniform<T>(got.data(), n, seed, offset, c.a, c.b, nullptr);
    }
    CHECK(got.guards_intact());
    CHECK(std::memcmp(got.data(), expect.data<T>(), static_cast<size_t>(n) * sizeof(T)) == 0);
  }
}

// Normalised mean squared error of got against the reference (ggml's backend-op measure).
template <typename T>
double nmse(const Guarded<T>& got, const Tensor& expect) {
  REQUIRE(static_cast<int64_t>(got.size()) == expect.numel());
  const T* e = expect.data<T>();
  double err = 0, ref = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = static_cast<double>(got.data()[i]) - static_cast<double>(e[i]);
    err += d * d;
    ref += static_cast<double>(e[i]) * static_cast<double>(e[i]);
  }
  return err / std::max(ref, 1e-300);  // NaN (an unwritten element) fails every comparison
}

struct GnCase {
  int64_t n, c, groups;
  Shape spatial;
};

template <typename T>
void check_group_norm(const GnCase& gc, bool affine, bool silu, double tol) {
  Shape shape{gc.n, gc.c};
  for (int64_t d : gc.spatial) shape.push_back(d);
  const int64_t numel = shape_numel(shape), ng = gc.n * gc.groups;
  kernels::GroupNormShape ks{gc.n, gc.c, numel / std::max<int64_t>(gc.n * gc.c, 1), gc.groups};
  const DType dt = dtype_of<T>();
  const Tensor x = Tensor::from_vector(test::hashed_values(numel, 11, 1.7, 0.4), shape, dt);
  const Tensor dy = Tensor::from_vector(test::hashed_values(numel, 23, 1.0, -0.1), shape, dt);
  Tensor gamma, beta;
  if (affine) {
    gamma = Tensor::from_vector(test::hashed_values(gc.c, 5, 0.6, 1.0), {gc.c}, dt);
    beta = Tensor::from_vector(test::hashed_values(gc.c, 6, 0.5, 0.2), {gc.c}, dt);
  }
  const T* pg = affine ? gamma.data<T>() : nullptr;
  const T* pb = affine ? beta.data<T>() : nullptr;
  const double eps = 1e-5;

  Tensor y = Tensor::empty(shape, dt), mean = Tensor::empty({gc.n, gc.groups}, dt);
  Tensor rstd = Tensor::empty({gc.n, gc.groups}, dt);
  cpu().group_norm_forward(x, gamma, beta, static_cast<int>(gc.groups), eps, silu, y, mean, rstd);
  Guarded<T> ky(static_cast<size_t>(numel)), kmean(static_cast<size_t>(ng));
  Guarded<T> krstd(static_cast<size_t>(ng));
  kernels::launch_group_norm_forward<T>(x.data<T>(), pg, pb, ks, eps, silu, ky.data(), kmean.data(),
                                        krstd.data(), nullptr);
  CHECK(ky.guards_intact());
  CHECK(kmean.guards_intact());
  CHECK(krstd.guards_intact());
  CHECK(nmse(ky, y) < tol);
  CHECK(nmse(kmean, mean) < tol);
  CHECK(nmse(krstd, rstd) < tol);

  // Backward from the CPU's saved statistics, for every subset of outputs a caller may want (at
  // large shapes only the distinct code paths: all, dx alone, dgamma and dbeta without dx).
  const bool large = numel > 10000;
  for (int want = 1; want < 8; ++want) {
    if (large && want != 7 && want != 1 && want != 6) continue;
    const bool want_dx = (want & 1) != 0, want_dg = (want & 2) != 0, want_db = (want & 4) != 0;
    INFO("dx " << want_dx << " dgamma " << want_dg << " dbeta " << want_db);
    Tensor dx = want_dx ? Tensor::empty(shape, dt) : Tensor();
    Tensor dgamma = want_dg ? Tensor::empty({gc.c}, dt) : Tensor();
    Tensor dbeta = want_db ? Tensor::empty({gc.c}, dt) : Tensor();
    cpu().group_norm_backward(x, gamma, beta, mean, rstd, dy, static_cast<int>(gc.groups), silu,
                              dx, dgamma, dbeta);
    Guarded<T> kdx(static_cast<size_t>(numel)), kdg(static_cast<size_t>(gc.c));
    Guarded<T> kdb(static_cast<size_t>(gc.c));
    Guarded<T> work(static_cast<size_t>(kernels::group_norm_backward_workspace(ks)));
    kernels::launch_group_norm_backward<T>(
        x.data<T>(), pg, pb, mean.data<T>(), rstd.data<T>(), dy.data<T>(), ks, silu,
        want_dx ? kdx.data() : nullptr, want_dg ? kdg.data() : nullptr,
        want_db ? kdb.data() : nullptr, (want_dg || want_db) ? work.data() : nullptr, nullptr);
    CHECK(kdx.guards_intact());
    CHECK(kdg.guards_intact());
    CHECK(kdb.guards_intact());
    CHECK(work.guards_intact());
    if (want_dx) CHECK(nmse(kdx, dx) < tol);
    if (want_dg) CHECK(nmse(kdg, dgamma) < tol);
    if (want_db) CHECK(nmse(kdb, dbeta) < tol);
  }
}

const GnCase kGnCases[] = {
    {2, 64, 32, {16, 16}},  // a UNet stage: D = 2 channels of 256 positions
    {2, 6, 3, {5, 3}},      // odd sizes
    {3, 6, 3, {11}},        // 1-d spatial
    {4, 8, 2, {}},          // no spatial dims
    {1, 40, 2, {3, 3}},     // D = 20 channels: several row sweeps, the last one partial
    {1, 4, 2, {24, 24}},    // S = 576 > 256 lanes: lanes loop within a channel
    {2, 5, 1, {13}},        // one group over all channels
};

}  // namespace

TEST_CASE("kernels: Philox fills on the emulator equal the CPU backend bit for bit",
          "[kernels][simt]") {
  for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{4099}, int64_t{70001}}) {
    check_fill_parity<float>(n, 7, 0);
    check_fill_parity<double>(n, 0x1234567890abcdefull, 12345);
  }
  check_fill_parity<float>(1027, ~0ull, (1ull << 40) + 3);
}

TEST_CASE("kernels: GroupNorm(+SiLU) forward and backward on the emulator match the CPU backend",
          "[kernels][simt]") {
  for (const GnCase& gc : kGnCases) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool affine = (variant & 1) != 0, silu = (variant & 2) != 0;
      INFO("x [" << gc.n << ", " << gc.c << ", " << gc.spatial.size() << "-d spatial], groups "
                 << gc.groups << (affine ? ", affine" : "") << (silu ? ", silu" : ""));
      check_group_norm<float>(gc, affine, silu, 1e-10);
    }
  }
  check_group_norm<double>(kGnCases[0], true, true, 1e-24);
  check_group_norm<double>(kGnCases[2], false, true, 1e-24);
}
