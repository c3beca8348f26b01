// All-reduce bandwidth by message size, reported the way nccl-tests does: the time of one in-place
// sum over every rank, algorithm bandwidth (bytes / time) and bus bandwidth (algbw · 2(N−1)/N,
// what each link carries in a ring, comparable across rank counts). Each size is checked first:
// rank r contributes r + 1 everywhere, so every element must come back as N(N+1)/2.
//
//   mpirun -np 2 build/benchmarks/bench_allreduce [--device cpu|cuda] [--comm auto|mpi|nccl]
//       [--min-bytes 1024] [--max-bytes 268435456] [--factor 4] [--iters 20] [--warmup 5]
//
// On the CPU (and --comm mpi) the MPI communicator runs the collectives on its own thread; on a
// GPU, NCCL on the device's memory. Times are the mean over ranks of the mean over --iters.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/cpu/runtime_env.h"
#include "engine/backend.h"
#include "engine/dist/communicator.h"
#include "engine/cpu/cpu_info.h"
#include "engine/error.h"

using namespace s2dm;

namespace {

struct Options {
  std::string device = "cpu", comm = "auto";
  int64_t min_bytes = 1024, max_bytes = int64_t{256} << 20, factor = 4;
  int iters = 20, warmup = 5;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    S2DM_CHECK(i + 1 < argc, "{} needs a value", a);
    const std::string v = argv[++i];
    if (a == "--device") o.device = v;
    else if (a == "--comm") o.comm = v;
    else if (a == "--min-bytes") o.min_bytes = std::stoll(v);
    else if (a == "--max-bytes") o.max_bytes = std::stoll(v);
    else if (a == "--factor") o.factor = std::stoll(v);
    else if (a == "--iters") o.iters = std::stoi(v);
    else if (a == "--warmup") o.warmup = std::stoi(v);
    else fail("unknown option {}; see the comment at the top of bench_allreduce.cpp", a);
  }
  S2DM_CHECK(o.min_bytes >= 4 && o.max_bytes >= o.min_bytes && o.factor >= 2 && o.iters >= 1 && o.warmup >= 0,
             "bad sizes or counts");
  return o;
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const dist::LaunchInfo launch = dist::detect_launch();
  const Device device = dist::device_for_rank(o.device, launch);
  backend_for(device);
  auto comm = dist::make_communicator(o.comm, device, launch);
  const int n = comm->world_size();
  const bool lead = comm->rank() == 0;
  if (lead) {
    std::printf("# bench_allreduce: %d ranks, communicator %s, device %s, launcher %s\n# host CPU: %s\n", n,
                comm->name().c_str(), device.str().c_str(), launch.launcher.c_str(), CpuInfo::detect().model.c_str());
    std::printf("# %12s %12s %10s %12s %12s %8s\n", "bytes", "floats", "time(us)", "algbw(GB/s)",
                "busbw(GB/s)", "check");
  }
  bool all_ok = true;
  for (int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= o.factor) {
    const int64_t count = bytes / 4;
    Tensor buf = Tensor::full({count}, comm->rank() + 1.0, DType::F32, device);
    comm->all_reduce(buf, dist::ReduceOp::Sum);
    const double want = n * (n + 1) / 2.0;
    const std::vector<double> got = buf.to_vector();
    bool ok = true;
    for (double g : got) ok = ok && g == want;
    for (int i = 0; i < o.warmup; ++i) comm->all_reduce(buf, dist::ReduceOp::Sum);
    comm->barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.iters; ++i) comm->all_reduce(buf, dist::ReduceOp::Sum);
    std::vector<double> stats{std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / o.iters,
                              ok ? 0.0 : 1.0};
    comm->all_reduce_host(stats, dist::ReduceOp::Sum);
    const double secs = stats[0] / n;
    ok = stats[1] == 0;
    all_ok = all_ok && ok;
    const double algbw = static_cast<double>(bytes) / secs / 1e9;
    if (lead)
      std::printf("  %12lld %12lld %10.1f %12.3f %12.3f %8s\n", static_cast<long long>(bytes),
                  static_cast<long long>(count), secs * 1e6, algbw, algbw * 2.0 * (n - 1) / n, ok ? "ok" : "WRONG");
    std::fflush(stdout);
  }
  comm.reset();
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_allreduce: error: %s\n", e.what());
    return 1;
  }
}
