// Backend registry: one backend per device type; CPU is always present.
#include "engine/backend.h"

#include <array>

#include "engine/error.h"
#ifdef S2DM_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace s2dm {

Backend& cpu_backend();  // engine/cpu/cpu_backend.cpp

namespace {
std::array<Backend*, 2>& registry() {
  static std::array<Backend*, 2> r{nullptr, nullptr};
  return r;
}
}  // namespace

void register_backend(DeviceType type, Backend* backend) {
  registry()[static_cast<size_t>(type)] = backend;
}

Backend& backend_for(Device device) {
  if (device.is_cpu()) return cpu_backend();
#ifdef S2DM_HAVE_CUDA
  // CUDA is the only other device type. The first call probes the devices; without a usable one
  // it throws naming the missing driver or device.
  return cuda_backend(device.index);
#else
  Backend* b = registry()[static_cast<size_t>(device.type)];
  S2DM_CHECK(b != nullptr,
             "device {} is not available: this build has no CUDA backend or no GPU was found; "
             "use --device cpu, or rebuild with -DS2DM_CUDA=ON on a machine with the CUDA toolkit",
             device.str());
  return *b;
#endif
}

}  // namespace s2dm
