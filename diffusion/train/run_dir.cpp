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
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace fs = std::filesystem;

namespace {

// PATH.tmp.PID.N files whose process is gone.
int remove_stale_temporaries(const fs::path& dir) {
  static const std::regex tmp_name(R"(.+\.tmp\.(\d+)\.\d+)");
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !std::regex_match(name, m, tmp_name)) continue;
    const long pid = std::stol(m[1].str());
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
