// The Python interpreter that runs the PyTorch reference scripts: $S2DM_PYTHON when set (a GPU
// machine whose CUDA torch lives in a virtual environment), else Debian's /usr/bin/python3, the
// one python3-torch installs into.
#pragma once

#include <cstdlib>
#include <string>

namespace s2dm::bench {

// As a command prefix: the variables s2dm set for itself (S2DM_SET_VARS, engine/cpu/runtime_env.h)
// are removed, so the reference runs in the environment as found.
inline std::string python_interpreter() {
  const char* p = std::getenv("S2DM_PYTHON");
  std::string cmd;
  if (const char* set = std::getenv("S2DM_SET_VARS")) {
    std::string names = set;
    for (size_t at = 0; at < names.size();) {
      size_t end = names.find(' ', at);
      if (end == std::string::npos) end = names.size();
      if (end > at) cmd += "-u " + names.substr(at, end - at) + " ";
      at = end + 1;
    }
    if (!cmd.empty()) cmd = "env " + cmd;
  }
  return cmd + ((p && *p) ? std::string(p) : std::string("/usr/bin/python3"));
}

}  // namespace s2dm::bench
