// What the CPU can do and which BLAS kernels run on it: for choosing kernels by feature flags
// (never by a model list that ages) and for naming the machine in every benchmark line.
#pragma once
#include <string>

namespace s2dm {

struct CpuInfo {
  std::string model;  // "Intel(R) Xeon(R) Processor", from /proc/cpuinfo
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512_fp16 = false;

  static CpuInfo detect();  // this machine (cpuid through the compiler's builtins)
  // The widest vector ISA: "AVX-512 (FP16)", "AVX-512", "AVX2+FMA" or "SSE".
  std::string isa() const;
};

// OpenBLAS's kernel family for this process ("SkylakeX", "Haswell", "Prescott"...) and the
// library's build ("OpenBLAS 0.3.21 ... (OpenMP)").
std::string blas_core();
std::string blas_config();
// The vector ISA the CPU backend's own loops were compiled for (S2DM_CPU_ARCH_FLAGS, by default
// -march=native): "AVX-512", "AVX2+FMA", "AVX" or "SSE".
std::string built_isa();
// "Intel(R) Xeon(R) Processor, AVX-512 (FP16), s2dm kernels built for AVX-512, OpenBLAS core
// SkylakeX (OPENBLAS_CORETYPE set by s2dm: ...), float32 convolutions oneDNN 2.6.3 on
// avx512_core_amx, Winograd for 3x3 where it pays"
std::string describe_cpu_setup();

}  // namespace s2dm
