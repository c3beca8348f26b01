// MpiWorld: the process's MPI runtime (internal to engine/dist). One thread owns MPI: it calls
// MPI_Init_thread, every collective and MPI_Finalize, so collectives run beside the training
// thread (overlapping backward) and MPI needs no more than MPI_THREAD_FUNNELED. Tasks run in
// the order posted. Only abort() calls MPI from another thread: a failing rank must end the job
// even while the MPI thread is blocked in a collective.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/dist/launch.h"

namespace s2dm::dist {

class MpiWorld {
 public:
  // The process's MPI world, initialised on first use (under a launcher only).
  static std::shared_ptr<MpiWorld> get(const LaunchInfo& launch);
  ~MpiWorld();

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }

  // Runs f on the MPI thread; the future yields the seconds f took.
  std::future<double> post(std::function<void()> f);
  void run(std::function<void()> f) { post(std::move(f)).get(); }

  // dtype_code: 0 = float32, 1 = float64. In place; `average` divides by size() after the sum.
  void all_reduce(void* data, int64_t count, int dtype_code, bool average);
  void broadcast(void* data, int64_t bytes, int root);
  void barrier();
  std::vector<std::string> all_gather(const std::string& bytes);
  std::vector<std::string> gather(const std::string& bytes, int root);
  [[noreturn]] void abort(int code);

 private:
  MpiWorld() = default;
  void init_mpi(const LaunchInfo& launch);  // on the MPI thread
  void loop();                              // on the MPI thread, until stop_

  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<double()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace s2dm::dist
