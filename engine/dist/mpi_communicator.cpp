// The MPI communicator: collectives on host memory on the MPI thread; tensors on a device are
// copied to the host when started and back in wait() (the path for the simt device and for a GPU
// build without NCCL).
#include <future>

#include "engine/dist/communicator_impl.h"
#include "engine/error.h"
#ifdef S2DM_HAVE_MPI
#include "engine/dist/mpi_world.h"
#endif

namespace s2dm::dist {

#ifdef S2DM_HAVE_MPI
namespace {

int dtype_code(const Tensor& t) {
  S2DM_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64,
             "collectives take float32 or float64 tensors, got {}", t.str());
  S2DM_CHECK(t.is_contiguous(), "collectives need a contiguous tensor, got {}", t.str());
  return t.dtype() == DType::F32 ? 0 : 1;
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(std::shared_ptr<MpiWorld> world) : world_(std::move(world)) {
    rank_ = world_->rank();
    world_size_ = world_->size();
    local_rank_ = world_->local_rank();
  }
  ~MpiCommunicator() override {
    try {
      wait();
    } catch (...) {  // a destructor during an error must not throw again
    }
  }
  std::string name() const override { return "mpi"; }

  void start_all_reduce(const Tensor& t, ReduceOp op) override {
    const int code = dtype_code(t);
    Pending p;
    p.host = t.device().is_cpu() ? t : t.to(Device::cpu());
    if (!t.device().is_cpu()) p.device = t;
    p.done = world_->post([w = world_.get(), h = p.host, code, op] {
      w->all_reduce(h.raw(), h.numel(), code, op == ReduceOp::Average);
    });
    pending_.push_back(std::move(p));
  }

  void wait() override {
    std::vector<Pending> pending = std::move(pending_);
    pending_.clear();
    for (Pending& p : pending) {
      collective_seconds_ += p.done.get();
      if (p.device.defined()) Tensor(p.device).copy_(p.host);
    }
  }

  void broadcast(const Tensor& t, int root) override {
    dtype_code(t);
    Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());
    world_->run([&] { world_->broadcast(host.raw(), static_cast<int64_t>(host.nbytes()), root); });
    if (!t.device().is_cpu()) Tensor(t).copy_(host);
  }

  void barrier() override {
    wait();
    world_->run([&] { world_->barrier(); });
  }

  void all_reduce_host(std::vector<double>& values, ReduceOp op) override {
    world_->run([&] {
      world_->all_reduce(values.data(), static_cast<int64_t>(values.size()), 1, op == ReduceOp::Average);
    });
  }
  std::vector<std::string> all_gather_host(const std::string& bytes) override {
    std::vector<std::string> out;
    world_->run([&] { out = world_->all_gather(bytes); });
    return out;
  }
  std::vector<std::string> gather_host(const std::string& bytes, int root) override {
    std::vector<std::string> out;
    world_->run([&] { out = world_->gather(bytes, root); });
    return out;
  }
  [[noreturn]] void abort(int code) override { world_->abort(code); }

 private:
  struct Pending {
    std::future<double> done;
    Tensor host, device;  // device: defined when staged
  };
  std::shared_ptr<MpiWorld> world_;
  std::vector<Pending> pending_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(const LaunchInfo& launch) {
  return std::make_unique<MpiCommunicator>(MpiWorld::get(launch));
}

#else

std::unique_ptr<Communicator> make_mpi_communicator(const LaunchInfo& launch) {
  fail("{} started {} ranks, but this build of s2dm has no MPI: install libopenmpi-dev "
       "(apt-get install openmpi-bin libopenmpi-dev) and rebuild", launch.launcher, launch.world_size);
}

#endif

}  // namespace s2dm::dist
