// The one-process communicator, device selection and the shared-GPU check.
#include <map>
#include <unistd.h>

#include "engine/dist/communicator.h"
#include "engine/dist/communicator_impl.h"
#include "engine/error.h"
#ifdef S2DM_HAVE_CUDA
#include "engine/cuda/device_runtime.h"
#endif

namespace s2dm::dist {

namespace {

class LocalCommunicator final : public Communicator {
 public:
  std::string name() const override { return "local"; }
  void start_all_reduce(const Tensor&, ReduceOp) override {}
  void wait() override {}
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  void all_reduce_host(std::vector<double>&, ReduceOp) override {}
  std::vector<std::string> all_gather_host(const std::string& bytes) override { return {bytes}; }
  std::vector<std::string> gather_host(const std::string& bytes, int) override { return {bytes}; }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() { return std::make_unique<LocalCommunicator>(); }

bool built_with_mpi() {
#ifdef S2DM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool built_with_nccl() {
#ifdef S2DM_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> make_communicator(const std::string& kind, Device device,
                                                const LaunchInfo& launch) {
  S2DM_CHECK(kind == "auto" || kind == "mpi" || kind == "nccl" || kind == "local",
             "unknown communicator '{}'; use auto, mpi, nccl or local", kind);
  const bool cuda = device.type == DeviceType::CUDA;
  if (kind == "nccl") S2DM_CHECK(cuda, "--comm nccl needs a CUDA device (--device cuda); use --comm mpi for {}",
                                 device.str());
  if (kind == "local" || (launch.world_size == 1 && kind == "auto")) {
    S2DM_CHECK(launch.world_size == 1,
               "--comm local runs one process, but {} started {} ranks; use --comm auto", launch.launcher,
               launch.world_size);
    return make_local_communicator();
  }
  if (kind == "nccl" || (kind == "auto" && cuda)) return make_nccl_communicator(device, launch);
  return make_mpi_communicator(launch);
}

Device device_for_rank(const std::string& requested, const LaunchInfo& launch) {
  if (requested != "cuda" || launch.world_size == 1) return Device::parse(requested);
#ifdef S2DM_HAVE_CUDA
  const int count = cuda::device_count();
  // A launcher that binds one GPU per task (srun --gpus-per-task=1) leaves each rank one device.
  if (count == 1) return Device::cuda(0);
  S2DM_CHECK(launch.local_rank < count,
             "local rank {} has no GPU of its own: this node shows {} GPUs; start at most {} ranks "
             "per node (mpirun -npernode {}) or set CUDA_VISIBLE_DEVICES per rank",
             launch.local_rank, count, count, count);
  return Device::cuda(launch.local_rank);
#else
  return Device::parse(requested);  // fails with the build's own message
#endif
}

void check_one_rank_per_device(Communicator& comm, Device device) {
  if (comm.world_size() == 1 || device.type != DeviceType::CUDA) return;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string id = std::string(host) + " GPU ";
#ifdef S2DM_HAVE_CUDA
  id += cuda::pci_bus_id(device.index);
#else
  id += device.str();
#endif
  const std::vector<std::string> ids = comm.all_gather_host(id);
  std::map<std::string, int> first;
  for (int r = 0; r < static_cast<int>(ids.size()); ++r) {
    auto [it, fresh] = first.emplace(ids[static_cast<size_t>(r)], r);
    S2DM_CHECK(fresh,
               "ranks {} and {} both run on {}; each rank needs a GPU of its own: start at most one "
               "rank per GPU and use --device cuda (each rank takes the GPU of its local rank)",
               it->second, r, it->first);
  }
}

}  // namespace s2dm::dist
