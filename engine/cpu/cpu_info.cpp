// CPU model and feature flags; OpenBLAS's own account of itself.
#include "engine/cpu/cpu_info.h"

#include <cstdlib>
#include <fstream>

#include "engine/cpu/conv_onednn.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);

namespace s2dm {

CpuInfo CpuInfo::detect() {
  CpuInfo c;
  // One pass over /proc/cpuinfo: the model name, and the flags GCC 12's builtins do not know
  // (avx512fp16).
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line) && (c.model.empty() || !c.avx512_fp16);) {
    if (c.model.empty() && line.rfind("model name", 0) == 0) c.model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0) {
      c.avx512_fp16 = line.find(" avx512_fp16") != std::string::npos;
      if (!c.model.empty()) break;
    }
  }
  if (c.model.empty()) c.model = "unknown CPU";
  __builtin_cpu_init();
  c.avx2 = __builtin_cpu_supports("avx2");
  c.fma = __builtin_cpu_supports("fma");
  c.avx512f = __builtin_cpu_supports("avx512f");
  c.avx512bw = __builtin_cpu_supports("avx512bw");
  c.avx512vl = __builtin_cpu_supports("avx512vl");
  c.avx512dq = __builtin_cpu_supports("avx512dq");
  return c;
}

std::string CpuInfo::isa() const {
  if (avx512f && avx512bw && avx512vl && avx512dq) return avx512_fp16 ? "AVX-512 (FP16)" : "AVX-512";
  if (avx2 && fma) return "AVX2+FMA";
  return "SSE";
}

std::string blas_core() {
  const char* c = openblas_get_corename();
  return c ? c : "unknown";
}

std::string blas_config() {
  const char* c = openblas_get_config();
  return c ? c : "unknown";
}

std::string built_isa() {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
  return "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "AVX2+FMA";
#elif defined(__AVX__)
  return "AVX";
#else
  return "SSE";
#endif
}

std::string describe_cpu_setup() {
  const CpuInfo cpu = CpuInfo::detect();
  std::string s = cpu.model + ", " + cpu.isa() + ", s2dm kernels built for " + built_isa() +
                  ", OpenBLAS core " + blas_core();
  if (const char* by = std::getenv("S2DM_SET_CORETYPE")) s += std::string(" (OPENBLAS_CORETYPE set by s2dm: ") + by + ")";
  else if (std::getenv("OPENBLAS_CORETYPE")) s += " (OPENBLAS_CORETYPE from the environment)";
  s += ", float32 convolutions " + cpu::conv_library();
  return s;
}

}  // namespace s2dm
