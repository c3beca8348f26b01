// Errors a user or a caller can cause. Everything throws s2dm::Error with a message that names the
// problem and, where possible, the fix; binaries catch it at the top, print it and exit non-zero.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace s2dm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// A run stopped by a signal (SIGINT, SIGTERM, SIGHUP) at a point where it could stop cleanly.
class Interrupted : public Error {
 public:
  explicit Interrupted(int signal) : Error("interrupted by signal " + std::to_string(signal)), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace s2dm

// S2DM_CHECK(cond, "fmt", args...): throw s2dm::Error when cond is false.
#define S2DM_CHECK(cond, ...)                 \
  do {                                        \
    if (!(cond)) ::s2dm::fail(__VA_ARGS__);   \
  } while (0)
