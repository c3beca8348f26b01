// The Python interpreter that runs the PyTorch reference scripts: $S2DM_PYTHON when set (a GPU
// machine whose CUDA torch lives in a virtual environment), else Debian's /usr/bin/python3, the
// one python3-torch installs into.
#pragma once

#include <cstdlib>
#include <string>

namespace s2dm::bench {

inline std::string python_interpreter() {
  const char* p = std::getenv("S2DM_PYTHON");
  return (p && *p) ? std::string(p) : std::string("/usr/bin/python3");
}

}  // namespace s2dm::bench
