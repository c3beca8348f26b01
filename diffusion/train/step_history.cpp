// StepHistory: rows of a float64 device tensor, filled by device copies, read in one copy.
#include "diffusion/train/step_history.h"

#include "engine/error.h"

namespace s2dm {

StepHistory::StepHistory(int64_t capacity, Device device) {
  S2DM_CHECK(capacity >= 1, "StepHistory: capacity must be at least 1, got {}", capacity);
  rows_ = Tensor::zeros({capacity, kValues}, DType::F64, device);
}

void StepHistory::record(const Tensor& loss, const Tensor& l0_sum, const Tensor& lskip_sum,
                         const Tensor& grad_sq) {
  S2DM_CHECK(pending_ < rows_.size(0), "StepHistory: {} steps recorded without a read",
             pending_ + 1);
  const Tensor* values[kValues] = {&loss, &l0_sum, &lskip_sum, &grad_sq};
  Tensor row = rows_.slice(0, pending_, pending_ + 1);
  for (int64_t j = 0; j < kValues; ++j) {
    const Tensor& v = *values[j];
    S2DM_CHECK(v.numel() == 1, "StepHistory: a step value must be one element, got {}", v.str());
    row.slice(1, j, j + 1).copy_(v.detach().reshape({1, 1}));  // converts to float64
  }
  ++pending_;
}

std::vector<StepValues> StepHistory::read() {
  std::vector<StepValues> out(static_cast<size_t>(pending_));
  if (pending_ == 0) return out;
  const std::vector<double> v = rows_.slice(0, 0, pending_).to_vector();
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = {v[i * kValues], v[i * kValues + 1], v[i * kValues + 2], v[i * kValues + 3]};
  pending_ = 0;
  return out;
}

}  // namespace s2dm
