// The CUDA device runtime: a clear error without a device, and (on a GPU) host<->device round
// trips, fills and the caching allocator's statistics; those cases exist only in builds with the
// CUDA backend. The kernels themselves are checked by the backend-ops harness (test_backend_ops).
#include <catch2/catch.hpp>

#ifdef S2DM_HAVE_CUDA

#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/device_runtime.h"
#include "engine/tensor.h"

using namespace s2dm;

namespace {
std::string error_of(const auto& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool have_device() {
  if (cuda::device_count() > 0) return true;
  WARN("no CUDA device here (" << cuda::probe_error() << "); device checks skipped");
  return false;
}
}  // namespace

TEST_CASE("cuda: a missing device is reported with the fix", "[cuda]") {
  if (cuda::device_count() > 0) {
    // On a GPU machine an index past the last device is the missing one.
    const int past = cuda::device_count();
    const std::string msg = error_of([&] { backend_for(Device::cuda(past)); });
    CHECK(msg.find("not available") != std::string::npos);
    CHECK(msg.find("--device cpu") != std::string::npos);
    return;
  }
  const std::string msg = error_of([] { backend_for(Device::cuda(0)); });
  CHECK(msg.find("no CUDA device") != std::string::npos);
  CHECK(msg.find("--device cpu") != std::string::npos);
  CHECK(msg.find("not available") != std::string::npos);
  const std::string msg2 = error_of([] { Tensor::zeros({2}, DType::F32, Device::cuda(0)); });
  CHECK(msg2.find("no CUDA device") != std::string::npos);
  CHECK(msg2.find("--device cpu") != std::string::npos);
  CHECK(error_of([] { backend_for(Device::cuda(3)); }).find("no CUDA device") !=
        std::string::npos);
}

TEST_CASE("cuda: host to device to host round trip", "[cuda]") {
  if (!have_device()) {
    SUCCEED();
    return;
  }
  const std::vector<double> v{1.5, -2.0, 3.25, 0.0, 1e-3};
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor h = Tensor::from_vector(v, {5}, dt);
    Tensor d = h.to(Device::cuda(0));
    CHECK(d.device() == Device::cuda(0));
    const std::vector<double> back = d.to(Device::cpu()).to_vector();
    for (size_t i = 0; i < v.size(); ++i) CHECK(back[i] == Approx(v[i]));
    Tensor d2 = Tensor::empty({5}, dt, Device::cuda(0));
    d2.copy_(d);  // device to device
    CHECK(d2.to_vector() == d.to_vector());
  }
}

TEST_CASE("cuda: fills", "[cuda]") {
  if (!have_device()) {
    SUCCEED();
    return;
  }
  for (DType dt : {DType::F32, DType::F64}) {
    const Device g = Device::cuda(0);
    for (double x : Tensor::zeros({1000}, dt, g).to_vector()) REQUIRE(x == 0.0);
    for (double x : Tensor::full({1000}, -0.5, dt, g).to_vector()) REQUIRE(x == -0.5);
    // Philox fills give the CPU backend's values for the same (seed, offset).
    Tensor gu = Tensor::empty({4097}, dt, g), cu = Tensor::empty({4097}, dt);
    backend_of(gu).fill_uniform(gu, 42, 7, -1.0, 2.0);
    backend_of(cu).fill_uniform(cu, 42, 7, -1.0, 2.0);
    CHECK(gu.to_vector() == cu.to_vector());
    Tensor gn = Tensor::empty({4097}, dt, g), cn = Tensor::empty({4097}, dt);
    backend_of(gn).fill_normal(gn, 5, 0, 0.5, 2.0);
    backend_of(cn).fill_normal(cn, 5, 0, 0.5, 2.0);
    const std::vector<double> a = gn.to_vector(), b = cn.to_vector();
    for (size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == Approx(b[i]).epsilon(1e-12));
  }
}

TEST_CASE("cuda: caching allocator reuses blocks and tracks the peak", "[cuda]") {
  if (!have_device()) {
    SUCCEED();
    return;
  }
  cuda::CachingAllocator a(0);
  const size_t n = 3u << 20;  // a large-pool size: rounds to 4 MiB
  const size_t rounded = cuda::CachingAllocator::round_size(n);
  CHECK(rounded == (4u << 20));
  CHECK(cuda::CachingAllocator::round_size(1) == 512);

  void* p = a.allocate(n);
  CHECK(a.stats().malloc_calls == 1);
  CHECK(a.stats().bytes_in_use == rounded);
  a.deallocate(p);
  CHECK(a.stats().bytes_in_use == 0);
  CHECK(a.stats().bytes_cached == rounded);

  // Steady state: the same size again comes from the cache.
  void* q = a.allocate(n);
  CHECK(q == p);
  CHECK(a.stats().malloc_calls == 1);
  CHECK(a.stats().bytes_cached == 0);

  void* r = a.allocate(1000);
  CHECK(a.stats().malloc_calls == 2);
  CHECK(a.stats().peak_bytes_in_use == rounded + 1024);
  a.deallocate(r);
  CHECK(a.stats().peak_bytes_in_use == rounded + 1024);
  a.reset_peak();
  CHECK(a.stats().peak_bytes_in_use == rounded);
  a.deallocate(q);
  a.release_cache();
  CHECK(a.stats().bytes_cached == 0);

  cuda::PinnedStaging staging;
  void* s1 = staging.reserve(100);
  CHECK(staging.capacity() >= 100);
  CHECK(staging.reserve(50) == s1);
}
#endif  // S2DM_HAVE_CUDA
