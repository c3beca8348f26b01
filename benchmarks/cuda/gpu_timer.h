// GPU timing for the CUDA microbenchmarks: CUDA events around each run on the device's stream,
// warm-up runs first, an L2 flush (a 256 MiB memset, larger than any current L2) before every
// timed run so each starts cold, and the median over many runs. Callers rotate their inputs
// through several copies (the run index is passed in) so no run reuses the previous one's lines.
#pragma once
#include <algorithm>
#include <cuda_runtime.h>
#include <functional>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/device_runtime.h"
#include "engine/tensor.h"

namespace s2dm::bench {

class GpuTimer {
 public:
  explicit GpuTimer(int device = 0)
      : device_(device),
        flush_(Tensor::empty({int64_t{64} << 20}, DType::F32, Device::cuda(device))) {
    S2DM_CUDA_CHECK(cudaEventCreate(&start_));
    S2DM_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~GpuTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;

  // Median seconds of run(i) over `runs` timed runs after `warmup` untimed ones.
  double median_seconds(const std::function<void(int)>& run, int warmup = 5, int runs = 50) {
    cudaStream_t s = cuda::stream(device_);
    for (int i = 0; i < warmup; ++i) run(i);
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
      S2DM_CUDA_CHECK(cudaMemsetAsync(flush_.raw(), i & 0xff, flush_.nbytes(), s));
      S2DM_CUDA_CHECK(cudaEventRecord(start_, s));
      run(warmup + i);
      S2DM_CUDA_CHECK(cudaEventRecord(stop_, s));
      S2DM_CUDA_CHECK(cudaEventSynchronize(stop_));
      float ms = 0;
      S2DM_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
      times.push_back(ms * 1e-3);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

 private:
  int device_;
  Tensor flush_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace s2dm::bench
