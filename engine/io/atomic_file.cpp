// Atomic whole-file writes (temporary sibling, fsync, rename) and whole-file reads via POSIX calls,
// so every failure reports errno for the file that caused it.
#include "engine/io/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"

namespace s2dm {

namespace {

// Two threads of one process may save the same path at once; the counter keeps their temporary
// files apart where the pid alone would not.
std::atomic<uint64_t> g_tmp_counter{0};

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    S2DM_CHECK(w > 0, "cannot write {}: {}", path, std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void fsync_parent_dir(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    // Best effort: some filesystems refuse fsync on directories, and the data itself is already
    // durable and in place.
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

void write_file_atomic_parts(const std::string& path, const std::vector<std::string_view>& parts) {
  S2DM_CHECK(!path.empty(), "cannot write a file with an empty path");
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_tmp_counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  S2DM_CHECK(fd >= 0,
             "cannot write {}: cannot create temporary file {}: {} (does the directory exist and "
             "is it writable?)",
             path, tmp, std::strerror(errno));
  try {
    for (std::string_view part : parts) write_all(fd, part.data(), part.size(), tmp);
    S2DM_CHECK(::fsync(fd) == 0, "cannot write {}: fsync of {} failed: {}", path, tmp,
               std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Network filesystems may report a failed write only at close.
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write {}: closing {} failed: {}", path, tmp, std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write {}: renaming {} over it failed: {}", path, tmp, std::strerror(err));
  }
  fsync_parent_dir(path);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic_parts(path, {bytes});
}

std::string read_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO without a writer must not hang (it is refused below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  S2DM_CHECK(fd >= 0, "cannot open {}: {}", path, std::strerror(errno));
  std::string out;
  try {
    struct stat st {};
    S2DM_CHECK(::fstat(fd, &st) == 0, "cannot stat {}: {}", path, std::strerror(errno));
    S2DM_CHECK(!S_ISDIR(st.st_mode), "cannot read {}: it is a directory", path);
    // Devices, FIFOs and sockets have no size and may never end (/dev/zero): refused.
    S2DM_CHECK(S_ISREG(st.st_mode), "cannot read {}: not a regular file (a device, FIFO or socket); "
               "give the path of a file", path);
    // Read straight into the result, then keep reading to end of file rather than trusting
    // st_size (the file can grow while it is read).
    out.resize(static_cast<size_t>(st.st_size));
    size_t len = 0;
    char probe[1 << 12];
    for (;;) {
      const bool fill = len < out.size();
      char* dst = fill ? out.data() + len : probe;
      const size_t want = fill ? out.size() - len : sizeof probe;
      const ssize_t r = ::read(fd, dst, want);
      if (r < 0 && errno == EINTR) continue;
      S2DM_CHECK(r >= 0, "error reading {}: {}", path, std::strerror(errno));
      if (r == 0) break;
      if (fill) {
        len += static_cast<size_t>(r);
      } else {
        out.append(probe, static_cast<size_t>(r));
        len = out.size();
      }
    }
    out.resize(len);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return out;
}

}  // namespace s2dm
