// How this process was started: alone, or as one rank of a job launched by mpirun (OpenMPI or
// MPICH's hydra) or Slurm's srun. Only the launcher's environment variables are read, so a plain
// run never touches the MPI runtime.
#pragma once
#include <functional>
#include <string>

namespace s2dm::dist {

struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;           // rank among the processes on this node
  std::string launcher = "none";  // none | openmpi | hydra | slurm
};

using GetEnv = std::function<const char*(const char*)>;

// Reads the launcher's variables (OMPI_COMM_WORLD_*, PMI_* with MPI_LOCALRANKID, or srun's
// SLURM_PROCID / SLURM_STEP_NUM_TASKS / SLURM_LOCALID). Malformed values are an error naming the
// variable. A Slurm batch script itself (no job step) is not a launch: it runs as one process.
LaunchInfo detect_launch(const GetEnv& getenv_fn);
LaunchInfo detect_launch();  // from the process environment

}  // namespace s2dm::dist
