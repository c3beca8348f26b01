// Where a tensor's storage lives.
#pragma once
#include <string>

#include "engine/error.h"

namespace s2dm {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device&) const = default;
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
  // "cpu", "cuda" (= cuda:0) or "cuda:N"; anything else is an error naming the accepted forms.
  static Device parse(const std::string& s) {
    if (s == "cpu") return cpu();
    if (s == "cuda") return cuda(0);
    if (s.rfind("cuda:", 0) == 0 && s.size() > 5 &&
        s.find_first_not_of("0123456789", 5) == std::string::npos && s.size() < 9)
      return cuda(std::stoi(s.substr(5)));
    fail("unknown device '{}'; use cpu, cuda or cuda:N", s);
  }
};

}  // namespace s2dm
