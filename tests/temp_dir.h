// A fresh directory under the system temp dir for a test's files, removed with everything in it
// when the object goes out of scope.
#pragma once
#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <unistd.h>

#include <fmt/format.h>

namespace s2dm::test {

struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& tag = "test") {
    static std::atomic<int> counter{0};
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() /
          fmt::format("s2dm_{}_{}_{}_{:08x}", tag, ::getpid(), counter++, rd());
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

}  // namespace s2dm::test
