// Constructors of the communicators built only in some configurations (internal to engine/dist).
#pragma once
#include <memory>

#include "engine/dist/communicator.h"

namespace s2dm::dist {

// MPI on host memory; device tensors are staged through it. Fails in a build without MPI.
std::unique_ptr<Communicator> make_mpi_communicator(const LaunchInfo& launch);
// NCCL on the device's memory; fails without a CUDA build or when libnccl cannot be loaded.
std::unique_ptr<Communicator> make_nccl_communicator(Device device, const LaunchInfo& launch);

}  // namespace s2dm::dist
