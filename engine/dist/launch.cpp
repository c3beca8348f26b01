// Launcher detection from environment variables.
#include "engine/dist/launch.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "engine/error.h"

namespace s2dm::dist {

namespace {

// The variable's value as a non-negative int; -1 when unset.
int read_int(const GetEnv& env, const char* name) {
  const char* v = env(name);
  if (v == nullptr) return -1;
  int out = -1;
  const char* end = v + std::strlen(v);
  auto [p, ec] = std::from_chars(v, end, out);
  S2DM_CHECK(ec == std::errc() && p == end && out >= 0,
             "the launcher variable {}='{}' is not a non-negative integer", name, v);
  return out;
}

LaunchInfo make(const char* launcher, int rank, int size, int local, const char* size_var) {
  S2DM_CHECK(size >= 1 && rank >= 0 && rank < size,
             "launcher variables give rank {} of {} ({}); they are inconsistent", rank, size, size_var);
  LaunchInfo info;
  info.launcher = launcher;
  info.rank = rank;
  info.world_size = size;
  info.local_rank = local >= 0 ? local : 0;
  return info;
}

}  // namespace

LaunchInfo detect_launch(const GetEnv& env) {
  if (int size = read_int(env, "OMPI_COMM_WORLD_SIZE"); size >= 0)
    return make("openmpi", read_int(env, "OMPI_COMM_WORLD_RANK"), size,
                read_int(env, "OMPI_COMM_WORLD_LOCAL_RANK"), "OMPI_COMM_WORLD_SIZE");
  if (int size = read_int(env, "PMI_SIZE"); size >= 0)
    return make("hydra", read_int(env, "PMI_RANK"), size, read_int(env, "MPI_LOCALRANKID"), "PMI_SIZE");
  // srun sets the step's task count; a batch script has SLURM_NTASKS but no step of its own.
  if (int size = read_int(env, "SLURM_STEP_NUM_TASKS"); size >= 0)
    return make("slurm", read_int(env, "SLURM_PROCID"), size, read_int(env, "SLURM_LOCALID"),
                "SLURM_STEP_NUM_TASKS");
  return {};
}

LaunchInfo detect_launch() {
  return detect_launch([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace s2dm::dist
