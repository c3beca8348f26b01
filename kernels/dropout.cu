// Dropout: one thread per Philox counter. Element i takes word i % 4 of counter offset + i / 4
// (kernels/philox.h), so a thread draws one counter and masks its four elements; the uniform,
// the comparison with p and the single multiply by the host-computed scale are exact, which makes
// the result equal to the CPU backend's bit for bit.
#include "kernels/dropout.cuh"

#include "kernels/device_common.cuh"
#include "kernels/philox.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;

template <typename T>
__global__ void __launch_bounds__(kBlock) dropout_kernel(const T* in, T* out, int64_t n, float p,
                                                         T scale, uint64_t seed, uint64_t offset) {
  const int64_t counters = ceil_div(n, 4);
  for (int64_t c = blockIdx.x * int64_t{kBlock} + threadIdx.x; c < counters;
       c += gridDim.x * int64_t{kBlock}) {
    const philox::Words r = philox::philox4x32_10(offset + static_cast<uint64_t>(c), seed);
    for (int w = 0; w < 4; ++w) {
      const int64_t i = 4 * c + w;
      if (i >= n) break;
      out[i] = philox::to_uniform(r.w[w]) >= p ? in[i] * scale : T(0);
    }
  }
}

}  // namespace

template <typename T>
void launch_dropout(const T* in, T* out, int64_t n, float p, T scale, uint64_t seed,
                    uint64_t offset, cudaStream_t stream) {
  if (n <= 0) return;
  launch(dropout_kernel<T>, blocks_for(ceil_div(n, 4), kBlock), kBlock, 0, stream, in, out, n, p,
         scale, seed, offset);
}

#define S2DM_INSTANTIATE_DROPOUT(T)                                                        \
  template void launch_dropout<T>(const T*, T*, int64_t, float, T, uint64_t, uint64_t, \
                                  cudaStream_t);
S2DM_INSTANTIATE_DROPOUT(float)
S2DM_INSTANTIATE_DROPOUT(double)
#undef S2DM_INSTANTIATE_DROPOUT

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
