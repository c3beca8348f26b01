// CPU softmax over the last dim, forward and backward.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/fast_math.h"
#include "engine/cpu/softmax_row.h"
#include "engine/cpu/strided.h"

namespace s2dm {

namespace {

// Rows of the last dim: x viewed as [rows, cols] (a 0-d tensor is one row of one element).
void softmax_rows(const Tensor& x, int64_t& rows, int64_t& cols) {
  cols = x.dim() == 0 ? 1 : x.size(-1);
  rows = cols == 0 ? 0 : x.numel() / cols;
}

}  // namespace

void CpuBackend::softmax_forward(const Tensor& x, Tensor& y) {
  int64_t rows = 0, cols = 0;
  softmax_rows(x, rows, cols);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (rows * cols > cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      cpu::softmax_row(px + r * cols, py + r * cols, cols);
    }
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  int64_t rows = 0, cols = 0;
  softmax_rows(y, rows, cols);
  cpu::dispatch_float(y.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* py = y.data<T>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
#pragma omp parallel for schedule(static) if (rows * cols > cpu::kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* yr = py + r * cols;
      const T* dyr = pdy + r * cols;
      T* dxr = pdx + r * cols;
      double dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < cols; ++j)
        dot += static_cast<double>(dyr[j]) * static_cast<double>(yr[j]);
      const T dot_t = static_cast<T>(dot);
      for (int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - dot_t);
    }
  });
}

}  // namespace s2dm
