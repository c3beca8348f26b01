// Communicator: the collectives data-parallel training needs, over the ranks of one job.
//
// Device collectives work in place on a contiguous tensor (a flat gradient buffer or a slice of
// it) on the communicator's device. start_all_reduce() returns at once and the collectives run
// in the order started, on their own thread (MPI) or stream (NCCL); wait() finishes all of them,
// after which the tensors hold the results and later work on the device sees them. Every rank
// must start the same collectives in the same order.
//
// Implementations: "local" (one process: every collective is the identity), "mpi" (host memory;
// device tensors are staged through it) and "nccl" (device memory, its own stream; bootstrapped
// through MPI). A failing rank calls abort(), which ends every rank of the job.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dist/launch.h"
#include "engine/tensor.h"

namespace s2dm::dist {

enum class ReduceOp { Sum, Average };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual std::string name() const = 0;  // local | mpi | nccl
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }

  virtual void start_all_reduce(const Tensor& t, ReduceOp op) = 0;
  virtual void wait() = 0;
  void all_reduce(const Tensor& t, ReduceOp op) {
    start_all_reduce(t, op);
    wait();
  }
  // Every rank's t becomes root's t.
  virtual void broadcast(const Tensor& t, int root) = 0;
  virtual void barrier() = 0;

  // Host-side collectives for bookkeeping (losses, stop requests, checksums, sample images).
  virtual void all_reduce_host(std::vector<double>& values, ReduceOp op) = 0;
  virtual std::vector<std::string> all_gather_host(const std::string& bytes) = 0;
  // Root gets every rank's bytes in rank order; the other ranks get an empty vector.
  virtual std::vector<std::string> gather_host(const std::string& bytes, int root) = 0;

  // Ends every rank of the job with `code` (MPI_Abort; NCCL communicators are aborted first).
  [[noreturn]] virtual void abort(int code) = 0;

  // Seconds the collectives started so far have run (on their thread or stream); for reports.
  double collective_seconds() const { return collective_seconds_; }

 protected:
  int rank_ = 0, world_size_ = 1, local_rank_ = 0;
  double collective_seconds_ = 0;
};

// kind: auto (nccl for CUDA devices, mpi otherwise, local for one process), mpi, nccl or local.
// Launch: the job this process belongs to (detect_launch()). Errors name the fix: a build
// without MPI under mpirun, NCCL missing at run time, nccl for a CPU device.
std::unique_ptr<Communicator> make_communicator(const std::string& kind, Device device,
                                                const LaunchInfo& launch);
std::unique_ptr<Communicator> make_local_communicator();

// The device this rank trains on: "cuda" (no index) means the GPU of the local rank when the job
// has several ranks; an explicit cuda:N, cpu or simt is taken as given.
Device device_for_rank(const std::string& requested, const LaunchInfo& launch);
// Fails on every rank, naming both ranks and the GPU, when two ranks of the job share one GPU.
void check_one_rank_per_device(Communicator& comm, Device device);

// Whether this build has MPI / the NCCL path.
bool built_with_mpi();
bool built_with_nccl();

}  // namespace s2dm::dist
