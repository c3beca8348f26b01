// The process settings chosen from the machine: OpenBLAS's fallback kernels replaced by the ones
// the CPU's feature flags allow, the OpenMP spin shortened, and whatever the user set kept.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "engine/cpu/runtime_env.h"

using namespace s2dm;

namespace {

std::function<const char*(const char*)> env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

CpuInfo cpu(const std::string& isa) {
  CpuInfo c;
  c.model = "test CPU";
  c.avx2 = c.fma = isa != "sse";
  c.avx512f = c.avx512bw = c.avx512vl = c.avx512dq = isa == "avx512";
  return c;
}

std::map<std::string, std::string> as_map(const RuntimeEnv& r) {
  return {r.set.begin(), r.set.end()};
}

}  // namespace

TEST_CASE("OpenBLAS's fallback kernels are replaced by what the CPU's flags allow", "[runtime_env]") {
  // An AVX-512 Xeon OpenBLAS 0.3.21 does not know: Prescott -> SkylakeX, with a log line.
  auto r = as_map(decide_runtime_env(env_of({}), cpu("avx512"), "Prescott"));
  CHECK(r["OPENBLAS_CORETYPE"] == "SkylakeX");
  CHECK(decide_runtime_env(env_of({}), cpu("avx512"), "Prescott").note.find("OPENBLAS_CORETYPE=SkylakeX") !=
        std::string::npos);
  // AVX2 only: Haswell. No AVX2: nothing better to pick.
  CHECK(as_map(decide_runtime_env(env_of({}), cpu("avx2"), "Nehalem"))["OPENBLAS_CORETYPE"] == "Haswell");
  CHECK(as_map(decide_runtime_env(env_of({}), cpu("sse"), "Prescott")).count("OPENBLAS_CORETYPE") == 0);
  // A core OpenBLAS chose knowingly is kept (Zen, Haswell, SkylakeX, Cooperlake...).
  for (const char* core : {"Zen", "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids"})
    CHECK(as_map(decide_runtime_env(env_of({}), cpu("avx512"), core)).count("OPENBLAS_CORETYPE") == 0);
  // The user's choice stands, even a slow one (how to see the fallback's cost on any machine).
  CHECK(as_map(decide_runtime_env(env_of({{"OPENBLAS_CORETYPE", "Prescott"}}), cpu("avx512"), "Prescott"))
            .count("OPENBLAS_CORETYPE") == 0);
  // Only rank 0 of a job says so.
  CHECK(decide_runtime_env(env_of({{"OMPI_COMM_WORLD_RANK", "1"}}), cpu("avx512"), "Prescott").note.empty());
}

TEST_CASE("OpenMP's spin is shortened unless the user chose a waiting policy", "[runtime_env]") {
  CHECK(as_map(decide_runtime_env(env_of({}), cpu("avx512"), "SkylakeX"))["GOMP_SPINCOUNT"] == kDefaultSpinCount);
  CHECK(as_map(decide_runtime_env(env_of({{"OMP_WAIT_POLICY", "active"}}), cpu("avx512"), "SkylakeX")).empty());
  CHECK(as_map(decide_runtime_env(env_of({{"GOMP_SPINCOUNT", "infinite"}}), cpu("avx512"), "SkylakeX")).empty());
}

TEST_CASE("this machine is described by model, ISA and BLAS core", "[runtime_env]") {
  const CpuInfo c = CpuInfo::detect();
  CHECK(!c.model.empty());
  CHECK((c.isa() == "AVX-512 (FP16)" || c.isa() == "AVX-512" || c.isa() == "AVX2+FMA" || c.isa() == "SSE"));
  CHECK(describe_cpu_setup().find("OpenBLAS core " + blas_core()) != std::string::npos);
}
