// Backend registry: one backend per device type; CPU is always present.
#include "engine/backend.h"

#include <array>
#include <atomic>

#include "engine/error.h"
#include "engine/op_profile.h"
#ifdef S2DM_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace s2dm {

Backend& cpu_backend();           // engine/cpu/cpu_backend.cpp
Backend& profiled(Backend& inner);  // engine/op_profile.cpp

namespace {
std::array<Backend*, 3>& registry() {
  static std::array<Backend*, 3> r{nullptr, nullptr, nullptr};
  return r;
}
}  // namespace

namespace {
std::atomic<bool> g_tf32{true};
}  // namespace
void set_tf32_enabled(bool enabled) { g_tf32.store(enabled); }
bool tf32_enabled() { return g_tf32.load(); }

namespace {
std::atomic<size_t> g_attention_scores_limit{size_t{1} << 30};
}  // namespace
void set_attention_scores_limit(size_t bytes) { g_attention_scores_limit.store(bytes); }
size_t attention_scores_limit() { return g_attention_scores_limit.load(); }

void register_backend(DeviceType type, Backend* backend) {
  registry()[static_cast<size_t>(type)] = backend;
}

namespace {
Backend& lookup(Device device) {
  switch (device.type) {
    case DeviceType::CPU: return cpu_backend();
    case DeviceType::CUDA:
#ifdef S2DM_HAVE_CUDA
    {
      // The first call probes the devices; without a usable one it throws naming the missing
      // driver or device.
      return cuda_backend(device.index);
    }
#else
      fail("device {} is not available: this build has no CUDA backend; use --device cpu, or "
           "rebuild with -DS2DM_CUDA=ON on a machine with the CUDA toolkit",
           device.str());
#endif
    case DeviceType::SIMT: {
      Backend* b = registry()[static_cast<size_t>(DeviceType::SIMT)];
      S2DM_CHECK(b != nullptr, "device simt (the SIMT emulator) is only linked into the tests "
                               "and the backend-ops harness; use --device cpu");
      return *b;
    }
  }
  fail("unknown device type {}", static_cast<int>(device.type));
}

}  // namespace

// Every op goes through here, so this is where profiling wraps the backends (engine/op_profile.h).
Backend& backend_for(Device device) {
  Backend& b = lookup(device);
  return op_profile_enabled() ? profiled(b) : b;
}

}  // namespace s2dm
