// The values of each training step (loss, the two loss terms' batch sums, the squared gradient
// norm), kept on the device until the trainer next reads them: at a log line, before a checkpoint
// or a sample grid. So a step makes no device-to-host copy of its own, and a log line makes one.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

struct StepValues {
  double loss = 0;       // the step's mean loss
  double l0_sum = 0;     // Σ ℓ0 over the batch
  double lskip_sum = 0;  // Σ ℓskip over the samples with t ≥ skip
  double grad_sq = 0;    // squared norm of the (averaged) gradient
};

class StepHistory {
 public:
  // Room for `capacity` steps between reads.
  StepHistory(int64_t capacity, Device device);
  // Copies the step's one-element tensors into the next row, on the device. Throws when full.
  void record(const Tensor& loss, const Tensor& l0_sum, const Tensor& lskip_sum,
              const Tensor& grad_sq);
  int64_t pending() const { return pending_; }
  // Every recorded step since the last read, oldest first, in one copy to the host.
  std::vector<StepValues> read();

 private:
  static constexpr int64_t kValues = 4;
  Tensor rows_;  // [capacity, kValues] float64
  int64_t pending_ = 0;
};

}  // namespace s2dm
