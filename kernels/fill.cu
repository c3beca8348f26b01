// Constant fill: one thread per element with a grid-stride loop, so any n fits one launch.
#include "kernels/fill.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {
constexpr int kFillBlock = 256;

template <typename T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = value;
}
}  // namespace

template <typename T>
void launch_fill(T* out, int64_t n, T value, cudaStream_t stream) {
  if (n <= 0) return;
  const int64_t blocks = ceil_div(n, kFillBlock);
  launch(fill_kernel<T>, static_cast<int>(blocks < 65535 ? blocks : 65535), kFillBlock, 0, stream,
         out, n, value);
}

template void launch_fill<float>(float*, int64_t, float, cudaStream_t);
template void launch_fill<double>(double*, int64_t, double, cudaStream_t);
template void launch_fill<uint16_t>(uint16_t*, int64_t, uint16_t, cudaStream_t);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
