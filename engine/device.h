// Where a tensor's storage lives.
#pragma once
#include <string>

#include "engine/error.h"

namespace s2dm {

// SIMT: the CUDA kernels run on the CPU by the SIMT emulator (kernels/simt), tensors in host
// memory. A test device: it exercises the GPU code path without a GPU (engine/simt/).
enum class DeviceType : uint8_t { CPU, CUDA, SIMT };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  static Device simt() { return {DeviceType::SIMT, 0}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device&) const = default;
  std::string str() const {
    switch (type) {
      case DeviceType::CPU: return "cpu";
      case DeviceType::SIMT: return "simt";
      default: return "cuda:" + std::to_string(index);
    }
  }
  // "cpu", "cuda" (= cuda:0), "cuda:N" or "simt"; anything else is an error naming the accepted
  // forms (simt is not among them: it is a test device).
  static Device parse(const std::string& s) {
    if (s == "cpu") return cpu();
    if (s == "cuda") return cuda(0);
    if (s == "simt") return simt();
    if (s.rfind("cuda:", 0) == 0 && s.size() > 5 &&
        s.find_first_not_of("0123456789", 5) == std::string::npos && s.size() < 9)
      return cuda(std::stoi(s.substr(5)));
    fail("unknown device '{}'; use cpu, cuda or cuda:N", s);
  }
};

}  // namespace s2dm
