// KernelBackend: Philox uniform and normal fills (bit-identical to the CPU backend's).
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/random.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

void KernelBackend::fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo,
                                 double hi) {
  require_contiguous("fill_uniform", out);
  cudaStream_t s = begin();
  switch (out.dtype()) {
    case DType::F32:
      kernels::launch_fill_uniform(out.data<float>(), out.numel(), seed, offset, lo, hi, s);
      break;
    case DType::F64:
      kernels::launch_fill_uniform(out.data<double>(), out.numel(), seed, offset, lo, hi, s);
      break;
    case DType::BF16: not_available("fill_uniform (bfloat16)");
  }
  check_launch();
}

void KernelBackend::fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                                double stddev) {
  require_contiguous("fill_normal", out);
  cudaStream_t s = begin();
  switch (out.dtype()) {
    case DType::F32:
      kernels::launch_fill_normal(out.data<float>(), out.numel(), seed, offset, mean, stddev, s);
      break;
    case DType::F64:
      kernels::launch_fill_normal(out.data<double>(), out.numel(), seed, offset, mean, stddev, s);
      break;
    case DType::BF16: not_available("fill_normal (bfloat16)");
  }
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
