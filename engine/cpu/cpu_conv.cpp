// PLACEHOLDER: replaced by the conv2d implementation.
#include "engine/cpu/cpu_backend.h"
#include "engine/error.h"
namespace s2dm {
void CpuBackend::conv2d_forward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Conv2dParams) { fail("conv2d: pending"); }
void CpuBackend::conv2d_backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&, Conv2dParams) { fail("conv2d: pending"); }
}  // namespace s2dm
