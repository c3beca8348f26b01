// The backend-ops harness (in the spirit of ggml's test-backend-ops): every Backend op, forward
// and backward, run on a backend under test and on the CPU backend (the reference) from the same
// inputs, compared by normalised mean squared error; outputs sit between guard regions and start
// as NaN, so out-of-bounds writes and unwritten elements both fail, and a NaN/Inf that the
// reference does not produce fails too. The same cases time the op in perf mode.
//
// A case is a function that builds its inputs and outputs through an OpContext and returns the
// op call as a closure; the harness runs that closure once per check, or many times per timing.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/tensor.h"

namespace s2dm::backend_ops {

class OpContext {
 public:
  OpContext(Backend& backend, DType dtype) : backend_(backend), dtype_(dtype) {}
  Backend& backend() { return backend_; }
  Device device() const { return backend_.device(); }
  DType dtype() const { return dtype_; }

  // Deterministic pseudo-random values in [shift - scale, shift + scale), identical on every
  // backend (they are made on the CPU and copied).
  Tensor input(const Shape& shape, uint64_t seed, double scale = 1.0, double shift = 0.0);
  Tensor input(const Shape& shape, uint64_t seed, double scale, double shift, DType dtype);
  Tensor values(const std::vector<double>& v, const Shape& shape);
  Tensor values(const std::vector<double>& v, const Shape& shape, DType dtype);
  // A compared output of the context's dtype (or dtype), contiguous, between two guard regions,
  // every element NaN before the op runs.
  Tensor output(const Shape& shape);
  Tensor output(const Shape& shape, DType dtype);
  // A compared output that the op also reads (axpy's y, Adam's state): starts as input() would.
  Tensor inout(const Shape& shape, uint64_t seed, double scale = 1.0, double shift = 0.0);

  // After the op: every compared output, on the host in float64, in order.
  std::vector<std::vector<double>> results() const;
  // Descriptions of damaged guard regions; empty when all are intact.
  std::vector<std::string> guard_violations() const;
  // Bytes of all inputs and outputs, for perf mode's GB/s.
  double bytes_touched() const { return bytes_; }
  // Waits for the backend's queued work.
  void sync();

 private:
  struct Guarded {
    Tensor storage, view;
  };
  Backend& backend_;
  DType dtype_;
  std::vector<Guarded> outputs_;
  double bytes_ = 0;
};

using OpRun = std::function<void()>;

struct OpCase {
  std::string op;    // the Backend method (kBackendOpNames)
  std::string desc;  // shapes and parameters, for messages
  // Largest NMSE allowed in float32; float64 allows max_nmse * 1e-16. 0 = bit-identical in both.
  double max_nmse = 1e-10;
  std::function<OpRun(OpContext&)> make;
  std::vector<DType> dtypes{DType::F32, DType::F64};
};

// Every case, all ops.
std::vector<OpCase> all_cases();

struct CheckResult {
  bool ok = true;
  double worst_nmse = 0;
  std::string message;  // what failed; empty when ok
};
// Runs the case on `backend` and on the CPU backend in dtype and compares.
CheckResult check_case(const OpCase& c, Backend& backend, DType dtype);
// Median seconds per run over `runs` runs after `warmup` runs; bytes moved per run in *bytes.
double time_case(const OpCase& c, Backend& backend, DType dtype, int warmup, int runs,
                 double* bytes);

}  // namespace s2dm::backend_ops
