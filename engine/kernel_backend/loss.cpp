// KernelBackend: the fused S²-DM loss on kernels/loss.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/loss.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

void KernelBackend::skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                              const Tensor& c, const Tensor& w0, const Tensor& wskip,
                              double inv_reduce, Tensor& l0, Tensor& lskip, Tensor& loss,
                              Tensor& dout) {
  require_contiguous("skip_loss", {&out, &eps1, &eps2, &c, &w0, &wskip, &l0, &lskip, &loss});
  require_contiguous_if_defined("skip_loss", {&dout});
  S2DM_CHECK(out.dim() >= 1 && out.size(0) >= 1, "skip_loss: out {} has no batch", out.str());
  const int64_t batch = out.size(0);
  cudaStream_t s = begin();
  cpu::dispatch_float(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_skip_loss<T>(out.data<T>(), eps1.data<T>(), eps2.data<T>(), c.data<T>(),
                                 w0.data<T>(), wskip.data<T>(), batch, out.numel() / batch,
                                 inv_reduce, l0.data<T>(), lskip.data<T>(), loss.data<T>(),
                                 dout.defined() ? dout.data<T>() : nullptr, s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
