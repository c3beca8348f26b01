// RunDir: the output folder of a training run, held for as long as the run writes to it.
//
// Taking it creates the folder (and samples/), locks it against a second trainer (flock on
// .s2dm-train.lock, released by the kernel even when the holder is killed; the message names the
// holder's pid and host), and removes temporary files that writes of dead processes left behind
// (engine/io/atomic_file.h names them PATH.tmp.PID.N). A folder holding a checkpoint is only
// reused by the run resuming it, or with overwrite; metrics.jsonl is made to hold each step once.
#pragma once
#include <cstdint>
#include <string>

namespace s2dm {

class RunDir {
 public:
  explicit RunDir(const std::string& dir);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  // Fails unless the folder's checkpoint (if any) is `resume` or overwrite is set.
  void check_reuse(const std::string& resume, bool overwrite) const;
  // Keeps the metrics lines of steps <= last_step (0: none), so a resumed run logs each step once.
  void trim_metrics(int64_t last_step) const;
  // Temporary files removed when the folder was taken.
  int removed_temporaries() const { return removed_; }

 private:
  std::string dir_;
  int lock_fd_ = -1;
  int removed_ = 0;
};

}  // namespace s2dm
