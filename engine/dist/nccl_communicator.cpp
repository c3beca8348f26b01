// The NCCL communicator: all-reduce and broadcast on the device's memory, on a communication
// stream of its own ordered after the compute stream's work. libnccl is loaded at run time
// (dlopen), so the programs start and train on one GPU or the CPU where NCCL is not installed,
// and a job that needs it fails with what to install. The communicator is bootstrapped through
// MPI: rank 0 makes the unique id and broadcasts it.
#include "engine/dist/communicator_impl.h"
#include "engine/error.h"

#ifdef S2DM_HAVE_CUDA
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/device_runtime.h"
#ifdef S2DM_HAVE_MPI
#include "engine/dist/mpi_world.h"
#endif
#endif

namespace s2dm::dist {

#ifdef S2DM_HAVE_CUDA
namespace {

// The NCCL entry points s2dm uses, resolved from the shared library.
struct NcclApi {
  ncclResult_t (*GetVersion)(int*);
  ncclResult_t (*GetUniqueId)(ncclUniqueId*);
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*AllReduce)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t);
  ncclResult_t (*Broadcast)(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t);
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*);
  ncclResult_t (*CommAbort)(ncclComm_t);
  ncclResult_t (*CommDestroy)(ncclComm_t);
  const char* (*GetErrorString)(ncclResult_t);
};

template <typename F>
void resolve(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  S2DM_CHECK(fn != nullptr, "the NCCL library lacks {}: it is older than s2dm needs (2.12 or later)", name);
}

const NcclApi& nccl() {
  static const NcclApi api = [] {
    // S2DM_NCCL_LIBRARY, when set, is the only library tried.
    const char* custom = std::getenv("S2DM_NCCL_LIBRARY");
    const std::vector<const char*> names =
        custom ? std::vector<const char*>{custom} : std::vector<const char*>{"libnccl.so.2", "libnccl.so"};
    void* lib = nullptr;
    std::string tried;
    for (const char* name : names) {
      lib = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
      if (lib) break;
      tried += fmt::format("\n  {}: {}", name, dlerror());
    }
    S2DM_CHECK(lib != nullptr,
               "NCCL is not available at run time:{}\nInstall NCCL (it ships with the CUDA toolkit in "
               "/usr/local/cuda/lib; add that to LD_LIBRARY_PATH), point S2DM_NCCL_LIBRARY at "
               "libnccl.so.2, or run with --comm mpi (gradients staged through host memory, slower)",
               tried);
    NcclApi a{};
    resolve(lib, "ncclGetVersion", a.GetVersion);
    resolve(lib, "ncclGetUniqueId", a.GetUniqueId);
    resolve(lib, "ncclCommInitRank", a.CommInitRank);
    resolve(lib, "ncclAllReduce", a.AllReduce);
    resolve(lib, "ncclBroadcast", a.Broadcast);
    resolve(lib, "ncclCommGetAsyncError", a.CommGetAsyncError);
    resolve(lib, "ncclCommAbort", a.CommAbort);
    resolve(lib, "ncclCommDestroy", a.CommDestroy);
    resolve(lib, "ncclGetErrorString", a.GetErrorString);
    return a;
  }();
  return api;
}

void check_nccl(ncclResult_t r, const char* what) {
  if (r != ncclSuccess && r != ncclInProgress)
    fail("NCCL {} failed: {} (set NCCL_DEBUG=WARN for NCCL's own account)", what, nccl().GetErrorString(r));
}

// How long a collective may take before the job is declared stuck (a peer died or hangs).
double timeout_seconds() {
  const char* v = std::getenv("S2DM_NCCL_TIMEOUT");
  return v ? std::atof(v) : 600.0;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Device device, const LaunchInfo& launch) : device_(device) {
    const NcclApi& api = nccl();
    ncclUniqueId id{};
    if (launch.world_size > 1) {
#ifdef S2DM_HAVE_MPI
      world_ = MpiWorld::get(launch);
      rank_ = world_->rank();
      world_size_ = world_->size();
      local_rank_ = world_->local_rank();
      if (rank_ == 0) check_nccl(api.GetUniqueId(&id), "ncclGetUniqueId");
      world_->run([&] { world_->broadcast(&id, sizeof id, 0); });
#else
      fail("{} started {} ranks, but this build of s2dm has no MPI to bootstrap NCCL: install "
           "libopenmpi-dev and rebuild", launch.launcher, launch.world_size);
#endif
    } else {
      check_nccl(api.GetUniqueId(&id), "ncclGetUniqueId");
    }
    cuda::set_device(device_.index);
    check_nccl(api.CommInitRank(&comm_, world_size_, id, rank_), "ncclCommInitRank");
    S2DM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    S2DM_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
    S2DM_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  }
  ~NcclCommunicator() override {
    if (comm_) nccl().CommDestroy(comm_);
  }
  std::string name() const override { return "nccl"; }

  void start_all_reduce(const Tensor& t, ReduceOp op) override {
    enqueue_after_compute(t);
    Timing timing = start_timing();
    check_nccl(nccl().AllReduce(t.raw(), t.raw(), static_cast<size_t>(t.numel()), type_of(t),
                                op == ReduceOp::Average ? ncclAvg : ncclSum, comm_, stream_),
               "ncclAllReduce");
    stop_timing(timing);
  }

  void wait() override {
    S2DM_CUDA_CHECK(cudaEventRecord(done_, stream_));
    // Later compute work waits on the device; the host polls so a dead peer ends in an error
    // instead of a hang.
    S2DM_CUDA_CHECK(cudaStreamWaitEvent(cuda::stream(device_.index), done_, 0));
    const auto start = std::chrono::steady_clock::now();
    const double limit = timeout_seconds();
    for (;;) {
      const cudaError_t q = cudaEventQuery(done_);
      if (q == cudaSuccess) break;
      if (q != cudaErrorNotReady) S2DM_CUDA_CHECK(q);
      ncclResult_t async = ncclSuccess;
      nccl().CommGetAsyncError(comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        nccl().CommAbort(comm_);
        comm_ = nullptr;
        fail("NCCL reported an error during a collective on rank {}: {}", rank_, nccl().GetErrorString(async));
      }
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > limit) {
        nccl().CommAbort(comm_);
        comm_ = nullptr;
        fail("a collective on rank {} did not finish in {:.0f} s: a peer rank has died or hangs "
             "(S2DM_NCCL_TIMEOUT sets the limit)", rank_, limit);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    for (Timing& t : timings_) {
      float ms = 0;
      S2DM_CUDA_CHECK(cudaEventElapsedTime(&ms, t.begin, t.end));
      collective_seconds_ += ms * 1e-3;
      cudaEventDestroy(t.begin);
      cudaEventDestroy(t.end);
    }
    timings_.clear();
  }

  void broadcast(const Tensor& t, int root) override {
    enqueue_after_compute(t);
    check_nccl(nccl().Broadcast(t.raw(), t.raw(), static_cast<size_t>(t.numel()), type_of(t), root,
                                comm_, stream_), "ncclBroadcast");
    wait();
  }

  void barrier() override {
    wait();
    with_world([](auto& w) { w.barrier(); });
  }

  void all_reduce_host(std::vector<double>& values, ReduceOp op) override {
    with_world([&](auto& w) {
      w.all_reduce(values.data(), static_cast<int64_t>(values.size()), 1, op == ReduceOp::Average);
    });
  }
  std::vector<std::string> all_gather_host(const std::string& bytes) override {
    std::vector<std::string> out{bytes};
    with_world([&](auto& w) { out = w.all_gather(bytes); });
    return out;
  }
  std::vector<std::string> gather_host(const std::string& bytes, int root) override {
    std::vector<std::string> out{bytes};
    with_world([&](auto& w) { out = w.gather(bytes, root); });
    return out;
  }
  [[noreturn]] void abort(int code) override {
    if (comm_) nccl().CommAbort(comm_);
    comm_ = nullptr;
#ifdef S2DM_HAVE_MPI
    if (world_) world_->abort(code);
#endif
    std::_Exit(code);
  }

 private:
  // Runs f(world) on the MPI thread; nothing for a one-process communicator. (Generic lambdas
  // are only instantiated where MPI exists.)
  template <typename F>
  void with_world(F&& f) {
#ifdef S2DM_HAVE_MPI
    if (world_) world_->run([&] { f(*world_); });
#else
    (void)f;
#endif
  }
  struct Timing {
    cudaEvent_t begin = nullptr, end = nullptr;
  };
  static ncclDataType_t type_of(const Tensor& t) {
    S2DM_CHECK(t.is_contiguous() && (t.dtype() == DType::F32 || t.dtype() == DType::F64),
               "NCCL collectives take contiguous float32/float64 tensors, got {}", t.str());
    return t.dtype() == DType::F32 ? ncclFloat32 : ncclFloat64;
  }
  // The communication stream waits for everything queued so far on the compute stream.
  void enqueue_after_compute(const Tensor& t) {
    S2DM_CHECK(t.device() == device_, "collective on {} but the communicator is on {}", t.str(), device_.str());
    S2DM_CUDA_CHECK(cudaEventRecord(ready_, cuda::stream(device_.index)));
    S2DM_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
  }
  Timing start_timing() {
    Timing t;
    S2DM_CUDA_CHECK(cudaEventCreate(&t.begin));
    S2DM_CUDA_CHECK(cudaEventCreate(&t.end));
    S2DM_CUDA_CHECK(cudaEventRecord(t.begin, stream_));
    return t;
  }
  void stop_timing(Timing t) {
    S2DM_CUDA_CHECK(cudaEventRecord(t.end, stream_));
    timings_.push_back(t);
  }

  Device device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr, done_ = nullptr;
  std::vector<Timing> timings_;
#ifdef S2DM_HAVE_MPI
  std::shared_ptr<MpiWorld> world_;
#endif
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Device device, const LaunchInfo& launch) {
  S2DM_CHECK(device.type == DeviceType::CUDA, "NCCL needs a CUDA device, got {}", device.str());
  return std::make_unique<NcclCommunicator>(device, launch);
}

#else

std::unique_ptr<Communicator> make_nccl_communicator(Device device, const LaunchInfo&) {
  fail("this build of s2dm has no CUDA backend, so no NCCL for {}; rebuild with the CUDA toolkit", device.str());
}

#endif

}  // namespace s2dm::dist
