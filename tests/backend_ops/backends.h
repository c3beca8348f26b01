// The backends the harness checks against the CPU: the SIMT emulator always, and every CUDA
// device in a CUDA build on a machine that has one.
#pragma once
#include <vector>

#include "engine/backend.h"

namespace s2dm::backend_ops {

std::vector<Backend*> backends_under_test();

}  // namespace s2dm::backend_ops
