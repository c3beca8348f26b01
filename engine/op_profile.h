// Per-op profiling of every backend at the one place ops are looked up (backend_for): while it is
// on, backend_for returns a wrapper generated from engine/backend_ops.h that times each op (and,
// on a GPU, marks it with an NVTX range for Nsight Systems). No op needs code of its own for this.
//
// Timing waits for the device before and after each op, so the rows show where device time goes,
// not overlap; the un-profiled step time is the one to quote. Rows are keyed by op name, the
// elementwise op (e.g. "unary silu") and the first tensor operand's shape.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace s2dm {

struct OpProfileOptions {
  bool timing = true;  // synchronise and accumulate each op's wall time (calls are always counted)
  bool nvtx = true;    // NVTX range per op on CUDA devices (no cost without a tool attached)
};

// Turns the wrapper on or off for every device; the rows are kept until cleared.
void enable_op_profile(OpProfileOptions options = {});
void disable_op_profile();
bool op_profile_enabled();

struct OpProfileRow {
  std::string key;
  int64_t calls = 0;
  double seconds = 0;
};
// The rows, largest time first.
std::vector<OpProfileRow> op_profile_rows();
void clear_op_profile();
// A table of the rows as milliseconds per step over `steps` steps (rows under 0.3 % omitted),
// headed by the total and the un-profiled step time when one is given (> 0).
std::string format_op_profile(int steps, double step_seconds = 0);

}  // namespace s2dm
