// What every fuzz target shares: a scratch directory made once per process (the readers take
// paths, so each input is written to a file there, /tmp/s2dm_fuzz_XXXXXX or under $TMPDIR) and
// the rule for what counts as a finding.
//
// Readers must reject bad input by throwing s2dm::Error. A target catches that (and, where the
// tools do, nlohmann::json::exception) and nothing else, so any other exception escapes to
// libFuzzer as a crash, next to sanitizer reports, hangs and allocations beyond -malloc_limit_mb.
#pragma once
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace s2dm::fuzz {

// The scratch directory: created with mkdtemp on first use, reused by every iteration, removed
// when the process exits normally.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    // Under $TMPDIR when set: scripts/fuzz.sh points it at a tmpfs, because rewriting a file on
    // ext4 every iteration waits on writeback and cut throughput from ~20000 to ~300 runs/s.
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp");
    tmpl += "/s2dm_fuzz_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "fuzz: mkdtemp(%s) failed: %s\n", tmpl.c_str(), std::strerror(errno));
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

// Writes bytes to <scratch>/<name>, replacing what the previous iteration left there. A failed
// write is a broken harness, not a finding in the code under test, so it aborts loudly.
inline std::string write_file(const std::string& name, std::string_view bytes) {
  const std::string path = (scratch_dir() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
      std::fclose(f) != 0) {
    std::fprintf(stderr, "fuzz: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    std::abort();
  }
  return path;
}

inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  return write_file(name, std::string_view(reinterpret_cast<const char*>(data), size));
}

// Removes <scratch>/<name> if an earlier iteration left it.
inline void remove_file(const std::string& name) {
  std::error_code ec;
  std::filesystem::remove(scratch_dir() / name, ec);
}

}  // namespace s2dm::fuzz
