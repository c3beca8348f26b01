// The run folder's lock, stale temporary files, reuse rules and metrics trimming.
#include "diffusion/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace fs = std::filesystem;

namespace {

// The PID of a temporary file NAME.tmp.PID.N (engine/io/atomic_file.cpp); -1 for other names.
long temporary_pid(const std::string& name) {
  const size_t tmp = name.rfind(".tmp.");
  if (tmp == std::string::npos || tmp == 0) return -1;
  const size_t dot = name.find('.', tmp + 5);
  if (dot == std::string::npos || dot == tmp + 5 || dot + 1 == name.size()) return -1;
  const auto digits = [&](size_t from, size_t to) {
    return name.find_first_not_of("0123456789", from) >= to;
  };
  if (!digits(tmp + 5, dot) || !digits(dot + 1, name.size()) || dot - tmp - 5 > 9) return -1;
  return std::stol(name.substr(tmp + 5, dot - tmp - 5));
}

// NAME.tmp.PID.N files whose process is gone.
int remove_stale_temporaries(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const long pid = temporary_pid(entry.path().filename().string());
    if (pid <= 0 || !entry.is_regular_file(ec)) continue;
    if (pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      if (fs::remove(entry.path(), ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace

RunDir::RunDir(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  S2DM_CHECK(!fs::exists(dir, ec) || fs::is_directory(dir, ec),
             "--out {} is a file; the output must be a folder (give another --out)", dir);
  fs::create_directories(fs::path(dir) / "samples", ec);
  S2DM_CHECK(!ec, "cannot create the output folder {}: {} (check the path and its permissions)", dir,
             ec.message());
  const std::string lock = (fs::path(dir) / ".s2dm-train.lock").string();
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  S2DM_CHECK(lock_fd_ >= 0, "cannot write to the output folder {}: {} (check its permissions)", dir,
             std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[256] = {};
    const ssize_t n = ::pread(lock_fd_, holder, sizeof holder - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "another process";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    fail("{} is in use by another s2dm-train ({}); wait for it to finish or give another --out", dir, who);
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string me = "pid " + std::to_string(::getpid()) + " on " + host + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, me.data(), me.size(), 0) < 0)
    fail("cannot write to the output folder {}: {}", dir, std::strerror(errno));
  removed_ = remove_stale_temporaries(dir) + remove_stale_temporaries(fs::path(dir) / "samples");
}

RunDir::~RunDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the lock
}

void RunDir::check_reuse(const std::string& resume, bool overwrite) const {
  const fs::path ckpt = fs::path(dir_) / "checkpoint.safetensors";
  std::error_code ec;
  if (overwrite || !fs::exists(ckpt, ec)) return;
  if (!resume.empty() && fs::equivalent(ckpt, resume, ec)) return;
  fail("{} already holds a run's checkpoint; continue it with --resume {}, or pass --overwrite to "
       "start a new run there (its checkpoint and metrics are replaced)",
       dir_, ckpt.string());
}

void RunDir::trim_metrics(int64_t last_step) const {
  const fs::path path = fs::path(dir_) / "metrics.jsonl";
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  std::ifstream in(path);
  std::ostringstream kept;
  bool changed = false;
  for (std::string line; std::getline(in, line);) {
    int64_t step = -1;
    try {
      step = nlohmann::json::parse(line).at("step").get<int64_t>();
    } catch (const nlohmann::json::exception&) {
      // A line cut short by a kill: dropped.
    }
    if (step >= 1 && step <= last_step) {
      kept << line << '\n';
    } else {
      changed = true;
    }
  }
  if (changed) write_file_atomic(path.string(), kept.str());
}

}  // namespace s2dm
