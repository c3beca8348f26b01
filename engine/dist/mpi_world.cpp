// The MPI thread and the host collectives on it.
#include "engine/dist/mpi_world.h"

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <cstdio>

#include "engine/error.h"

namespace s2dm::dist {

namespace {

// MPI counts are int: larger buffers go in chunks.
constexpr int64_t kMaxChunk = int64_t{1} << 30;

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<size_t>(len));
}

void check_mpi(int code, const char* what) {
  if (code != MPI_SUCCESS) fail("MPI {} failed: {}", what, mpi_error(code));
}

}  // namespace

std::shared_ptr<MpiWorld> MpiWorld::get(const LaunchInfo& launch) {
  static std::mutex m;
  static std::weak_ptr<MpiWorld> current;
  static bool used = false;
  std::lock_guard<std::mutex> lock(m);
  if (auto w = current.lock()) return w;
  S2DM_CHECK(!used, "MPI was finalized in this process already; it cannot be initialised again");
  used = true;
  std::shared_ptr<MpiWorld> w(new MpiWorld());
  std::promise<void> ready;
  std::future<void> started = ready.get_future();
  w->thread_ = std::thread([raw = w.get(), launch, &ready] {
    try {
      raw->init_mpi(launch);
    } catch (...) {
      ready.set_exception(std::current_exception());
      return;
    }
    ready.set_value();
    raw->loop();
  });
  try {
    started.get();
  } catch (...) {
    w->thread_.join();
    throw;
  }
  current = w;
  return w;
}

void MpiWorld::init_mpi(const LaunchInfo& launch) {
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
  if (size_ != launch.world_size || rank_ != launch.rank) {
    std::fprintf(stderr, "s2dm: MPI reports rank %d of %d but %s's variables said %d of %d; "
                 "is this binary built against the MPI of the launcher?\n",
                 rank_, size_, launch.launcher.c_str(), launch.rank, launch.world_size);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

void MpiWorld::loop() {
  for (;;) {
    std::packaged_task<double()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) break;  // stop_ and nothing left
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
  MPI_Finalize();
}

MpiWorld::~MpiWorld() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::future<double> MpiWorld::post(std::function<void()> f) {
  std::packaged_task<double()> task([f = std::move(f)] {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  });
  std::future<double> done = task.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return done;
}

void MpiWorld::all_reduce(void* data, int64_t count, int dtype_code, bool average) {
  const MPI_Datatype type = dtype_code == 0 ? MPI_FLOAT : MPI_DOUBLE;
  const size_t elem = dtype_code == 0 ? 4 : 8;
  auto* bytes = static_cast<char*>(data);
  for (int64_t at = 0; at < count; at += kMaxChunk) {
    const int n = static_cast<int>(std::min(kMaxChunk, count - at));
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, bytes + static_cast<size_t>(at) * elem, n, type, MPI_SUM,
                            MPI_COMM_WORLD), "MPI_Allreduce");
  }
  if (!average || size_ == 1) return;
  if (dtype_code == 0) {
    const float s = 1.0f / static_cast<float>(size_);
    auto* p = static_cast<float*>(data);
    for (int64_t i = 0; i < count; ++i) p[i] *= s;
  } else {
    const double s = 1.0 / static_cast<double>(size_);
    auto* p = static_cast<double*>(data);
    for (int64_t i = 0; i < count; ++i) p[i] *= s;
  }
}

void MpiWorld::broadcast(void* data, int64_t bytes, int root) {
  auto* p = static_cast<char*>(data);
  for (int64_t at = 0; at < bytes; at += kMaxChunk)
    check_mpi(MPI_Bcast(p + at, static_cast<int>(std::min(kMaxChunk, bytes - at)), MPI_BYTE, root,
                        MPI_COMM_WORLD), "MPI_Bcast");
}

void MpiWorld::barrier() { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

std::vector<std::string> MpiWorld::gather(const std::string& bytes, int root) {
  S2DM_CHECK(bytes.size() < static_cast<size_t>(kMaxChunk) * 2,
             "gather: {} bytes from one rank is more than MPI's int counts allow", bytes.size());
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> sizes(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
  check_mpi(MPI_Gather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "MPI_Gather");
  std::string all;
  if (rank_ == root) {
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      S2DM_CHECK(total < INT32_MAX, "gather: more than 2 GiB in total; gather in parts");
      offsets[static_cast<size_t>(r)] = static_cast<int>(total);
      total += sizes[static_cast<size_t>(r)];
    }
    S2DM_CHECK(total < INT32_MAX, "gather: more than 2 GiB in total; gather in parts");
    all.resize(static_cast<size_t>(total));
  }
  check_mpi(MPI_Gatherv(bytes.data(), mine, MPI_BYTE, all.data(), sizes.data(), offsets.data(),
                        MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Gatherv");
  std::vector<std::string> out;
  if (rank_ != root) return out;
  for (int r = 0; r < size_; ++r)
    out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                             static_cast<size_t>(sizes[static_cast<size_t>(r)])));
  return out;
}

std::vector<std::string> MpiWorld::all_gather(const std::string& bytes) {
  std::vector<std::string> parts = gather(bytes, 0);
  // Rank 0 sends the joined parts (length-prefixed) to everyone.
  std::string joined;
  if (rank_ == 0)
    for (const std::string& p : parts) {
      const uint64_t n = p.size();
      joined.append(reinterpret_cast<const char*>(&n), sizeof n);
      joined += p;
    }
  uint64_t total = joined.size();
  broadcast(&total, sizeof total, 0);
  joined.resize(total);
  broadcast(joined.data(), static_cast<int64_t>(total), 0);
  parts.clear();
  for (size_t at = 0; at < joined.size();) {
    uint64_t n = 0;
    std::memcpy(&n, joined.data() + at, sizeof n);
    at += sizeof n;
    parts.push_back(joined.substr(at, n));
    at += n;
  }
  return parts;
}

void MpiWorld::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace s2dm::dist
