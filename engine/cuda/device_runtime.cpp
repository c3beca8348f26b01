// Device discovery, selection and the per-device streams (see device_runtime.h).
#include "engine/cuda/device_runtime.h"

#include <array>
#include <mutex>

#include "engine/cuda/cuda_check.h"

namespace s2dm::cuda {

namespace {
// Enough for any single node; indices beyond it are rejected like any other missing device.
constexpr int kMaxDevices = 64;

struct Probe {
  int count = 0;
  std::string error;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      r.error = std::string(cudaGetErrorString(err)) + " (" + cudaGetErrorName(err) + ")";
    } else if (n == 0) {
      r.error = "the CUDA driver reports 0 devices";
    } else {
      r.count = n < kMaxDevices ? n : kMaxDevices;
    }
    return r;
  }();
  return p;
}

std::mutex& stream_mutex() {
  static std::mutex m;
  return m;
}
std::array<Stream, kMaxDevices>& streams() {
  static std::array<Stream, kMaxDevices> s{};
  return s;
}
}  // namespace

int device_count() { return probe().count; }

const std::string& probe_error() { return probe().error; }

void require_device(int index) {
  const Probe& p = probe();
  S2DM_CHECK(p.count > 0, "CUDA device cuda:{} is not available: no CUDA device: {}; "
             "run with --device cpu", index, p.error);
  S2DM_CHECK(index >= 0 && index < p.count,
             "CUDA device cuda:{} is not available: this machine has {} CUDA device(s) "
             "(cuda:0 to cuda:{}); pick one of them or run with --device cpu",
             index, p.count, p.count - 1);
}

void set_device(int index) {
  require_device(index);
  S2DM_CUDA_CHECK(cudaSetDevice(index));
}

Stream stream(int index) {
  require_device(index);
  std::lock_guard<std::mutex> lock(stream_mutex());
  Stream& s = streams()[static_cast<size_t>(index)];
  if (s == nullptr) {
    S2DM_CUDA_CHECK(cudaSetDevice(index));
    // Non-blocking: work from libraries that use the legacy default stream must not serialise
    // with ours; all of s2dm's own work goes to this one stream, which orders it.
    S2DM_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  }
  return s;
}

void synchronize(int index) {
  Stream s = stream(index);
  S2DM_CUDA_CHECK(cudaStreamSynchronize(s));
}

std::string device_description(int index) {
  require_device(index);
  cudaDeviceProp prop{};
  S2DM_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  return fmt::format("{}, compute {}.{}, {:.1f} GiB", prop.name, prop.major, prop.minor,
                     static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
}

std::string pci_bus_id(int index) {
  require_device(index);
  char id[32] = {};
  S2DM_CUDA_CHECK(cudaDeviceGetPCIBusId(id, static_cast<int>(sizeof id), index));
  return id;
}

}  // namespace s2dm::cuda
