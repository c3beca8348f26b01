// Philox fills: one thread per element with a grid-stride loop. Each element is an independent
// function of (seed, offset, index), so any launch configuration gives the same values.
#include "kernels/random.cuh"

#include "kernels/device_common.cuh"
#include "kernels/philox.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {
constexpr int kBlock = 256;

template <typename T>
__global__ void fill_uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo,
                                    double hi) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = static_cast<T>(lo + (hi - lo) *
                                     static_cast<double>(philox::uniform_at(seed, offset, i)));
}

template <typename T>
__global__ void fill_normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
                                   double stddev) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = static_cast<T>(mean + stddev *
                                       static_cast<double>(philox::normal_at(seed, offset, i)));
}
}  // namespace

template <typename T>
void launch_fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi,
                         cudaStream_t stream) {
  if (n <= 0) return;
  launch(fill_uniform_kernel<T>, blocks_for(n, kBlock), kBlock, 0, stream, out, n, seed, offset,
         lo, hi);
}

template <typename T>
void launch_fill_normal(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
                        double stddev, cudaStream_t stream) {
  if (n <= 0) return;
  launch(fill_normal_kernel<T>, blocks_for(n, kBlock), kBlock, 0, stream, out, n, seed, offset,
         mean, stddev);
}

#define S2DM_INSTANTIATE_FILLS(T)                                                          \
  template void launch_fill_uniform<T>(T*, int64_t, uint64_t, uint64_t, double, double,   \
                                       cudaStream_t);                                     \
  template void launch_fill_normal<T>(T*, int64_t, uint64_t, uint64_t, double, double,    \
                                      cudaStream_t);
S2DM_INSTANTIATE_FILLS(float)
S2DM_INSTANTIATE_FILLS(double)
#undef S2DM_INSTANTIATE_FILLS

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
