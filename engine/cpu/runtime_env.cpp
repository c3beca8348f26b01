// The environment decision and the one re-execution that applies it.
#include "engine/cpu/runtime_env.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

namespace s2dm {

namespace {

// OpenBLAS cores without AVX2 kernels: what it falls back to on a CPU it does not know.
const std::set<std::string>& pre_avx2_cores() {
  static const std::set<std::string> cores = {
      "Prescott", "Core2",   "Penryn",   "Dunnington", "Nehalem",      "Sandybridge", "Atom",
      "Katmai",   "Coppermine", "Northwood", "Banias", "Athlon",       "Opteron",     "Opteron_SSE3",
      "Barcelona", "Bobcat", "Bulldozer", "Piledriver", "Steamroller", "Unknown",     "unknown"};
  return cores;
}

// Only one rank of a multi-process job prints.
bool first_rank(const std::function<const char*(const char*)>& env) {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* r = env(v)) return std::string(r) == "0";
  return true;
}

}  // namespace

RuntimeEnv decide_runtime_env(const std::function<const char*(const char*)>& env, const CpuInfo& cpu,
                              const std::string& blas_core) {
  RuntimeEnv out;
  if (env("OPENBLAS_CORETYPE") == nullptr && pre_avx2_cores().count(blas_core)) {
    const char* core = cpu.isa().rfind("AVX-512", 0) == 0 ? "SkylakeX" : cpu.isa() == "AVX2+FMA" ? "Haswell" : nullptr;
    if (core) {
      out.set.push_back({"OPENBLAS_CORETYPE", core});
      out.set.push_back({"S2DM_SET_CORETYPE", blas_core + " -> " + core});
      if (first_rank(env))
        out.note = "s2dm: OpenBLAS does not know this CPU (" + cpu.model + ", " + cpu.isa() +
                   ") and chose its " + blas_core + " kernels; using OPENBLAS_CORETYPE=" + core +
                   " (set OPENBLAS_CORETYPE yourself to choose)";
    }
  }
  if (env("GOMP_SPINCOUNT") == nullptr && env("OMP_WAIT_POLICY") == nullptr)
    out.set.push_back({"GOMP_SPINCOUNT", kDefaultSpinCount});
  return out;
}

void apply_runtime_env(char** argv) {
  if (std::getenv("S2DM_RUNTIME_ENV") != nullptr) return;  // already applied (or disabled with =0)
  const auto env = [](const char* name) -> const char* { return std::getenv(name); };
  const RuntimeEnv r = decide_runtime_env(env, CpuInfo::detect(), blas_core());
  if (r.set.empty()) return;
  std::string names;
  for (const auto& [name, value] : r.set) {
    ::setenv(name.c_str(), value.c_str(), 1);
    names += (names.empty() ? "" : " ") + name;
  }
  ::setenv("S2DM_RUNTIME_ENV", "1", 1);
  ::setenv("S2DM_SET_VARS", names.c_str(), 1);  // so reference programs can run as found
  if (!r.note.empty()) std::fprintf(stderr, "%s\n", r.note.c_str());
  std::fflush(nullptr);
  ::execv("/proc/self/exe", argv);
  // Re-execution failed (no /proc): go on with the settings as they are.
  std::fprintf(stderr, "s2dm: could not re-execute to apply OPENBLAS_CORETYPE/GOMP_SPINCOUNT; continuing\n");
}

}  // namespace s2dm
