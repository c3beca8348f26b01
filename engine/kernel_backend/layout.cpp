// KernelBackend: constant fills and copies.
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/fill.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

void KernelBackend::fill(Tensor& out, double value) {
  if (!out.is_contiguous()) not_available("fill (non-contiguous)");
  require_contiguous("fill", out);
  const int64_t n = out.numel();
  if (n == 0) return;
  cudaStream_t s = begin();
  switch (out.dtype()) {
    case DType::F32: kernels::launch_fill(out.data<float>(), n, static_cast<float>(value), s); break;
    case DType::F64: kernels::launch_fill(out.data<double>(), n, value, s); break;
    case DType::BF16:
      kernels::launch_fill(static_cast<uint16_t*>(out.raw()), n,
                           float_to_bf16(static_cast<float>(value)), s);
      break;
  }
  check_launch();
}

void KernelBackend::copy(const Tensor& src, Tensor& dst) {
  S2DM_CHECK(src.shape() == dst.shape(), "copy: {} into {}", src.str(), dst.str());
  if (!src.is_contiguous() || !dst.is_contiguous() || src.dtype() != dst.dtype())
    not_available("copy (strided or dtype-converting)");
  require_contiguous("copy", src);
  require_contiguous("copy", dst);
  if (src.nbytes() == 0 || src.raw() == dst.raw()) return;
  begin();
  copy_bytes(dst.raw(), src.raw(), src.nbytes());
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
