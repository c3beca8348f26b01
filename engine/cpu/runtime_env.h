// Process settings that OpenBLAS and OpenMP read from the environment once, when they load:
// decided from the machine, then applied by re-executing the program once with them set.
//
// - OpenBLAS picks its kernels from a list of CPU models; on a newer CPU it falls back to its
//   SSE3 "Prescott" kernels (7x slower GEMM on an AVX-512 Xeon). When it did and the CPU has
//   AVX-512 (or AVX2+FMA), OPENBLAS_CORETYPE=SkylakeX (or Haswell) is set, with one log line.
// - libgomp's waiting threads spin for 300000 iterations before sleeping, so a busy machine
//   (another process on a core) stalls every parallel region; a shorter spin degrades gracefully.
// A variable the user set is never changed; S2DM_RUNTIME_ENV=0 turns all of this off. The names
// set are listed in S2DM_SET_VARS, so benchmarks run their reference programs without them.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/cpu/cpu_info.h"

namespace s2dm {

struct RuntimeEnv {
  std::vector<std::pair<std::string, std::string>> set;  // to set before the libraries load
  std::string note;                                      // one line for the log; empty: silent
};

// libgomp's spin before a waiting thread sleeps (GOMP_SPINCOUNT), when the user set neither
// it nor OMP_WAIT_POLICY. Chosen by measurement (docs/benchmarks.md, busy machine).
inline constexpr const char* kDefaultSpinCount = "10000";

RuntimeEnv decide_runtime_env(const std::function<const char*(const char*)>& getenv_fn, const CpuInfo& cpu,
                              const std::string& blas_core);

// Re-executes this program once (/proc/self/exe, same arguments) with decide_runtime_env's
// variables when it sets any; returns when there is nothing to do or re-execution fails.
void apply_runtime_env(char** argv);

}  // namespace s2dm
