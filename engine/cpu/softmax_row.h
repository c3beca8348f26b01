// One softmax row, shared by the softmax op and attention: y = exp(x − max) / Σ, with the sum
// in double. Returns log Σ exp(x) (the row's log-sum-exp, which attention keeps for backward).
// x and y may be the same buffer.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace s2dm::cpu {

template <typename T>
double softmax_row(const T* x, T* y, int64_t n) {
  const T mx = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    y[j] = std::exp(x[j] - mx);
    sum += static_cast<double>(y[j]);
  }
  const T inv = static_cast<T>(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
  return static_cast<double>(mx) + std::log(sum);
}

}  // namespace s2dm::cpu
