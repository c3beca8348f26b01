// KernelBackend's shared checks.
#include "engine/kernel_backend/kernel_backend.h"

#include "engine/error.h"
#if !defined(S2DM_SIMT)
#include "engine/cuda/cuda_check.h"
#endif

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

void KernelBackend::require_contiguous(std::string_view op, const Tensor& t) const {
  S2DM_CHECK(t.defined(), "{}: a required tensor is undefined", op);
  S2DM_CHECK(t.device() == device(), "{}: tensor {} is not on {}", op, t.str(), device().str());
  S2DM_CHECK(t.is_contiguous(), "{}: tensor {} must be contiguous", op, t.str());
}

void KernelBackend::not_available(std::string_view op) const {
  fail("{} is not available on {} yet; use --device cpu", op, device().str());
}

void check_launch() {
#if !defined(S2DM_SIMT)
  S2DM_CUDA_CHECK_LAUNCH();
#endif
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
