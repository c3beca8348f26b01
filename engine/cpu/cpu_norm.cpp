// PLACEHOLDER: replaced by group norm and softmax.
#include "engine/cpu/cpu_backend.h"
#include "engine/error.h"
namespace s2dm {
void CpuBackend::group_norm_forward(const Tensor&, const Tensor&, const Tensor&, int, double, bool, Tensor&, Tensor&, Tensor&) { fail("pending"); }
void CpuBackend::group_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int, bool, Tensor&, Tensor&, Tensor&) { fail("pending"); }
void CpuBackend::softmax_forward(const Tensor&, Tensor&) { fail("pending"); }
void CpuBackend::softmax_backward(const Tensor&, const Tensor&, Tensor&) { fail("pending"); }
}  // namespace s2dm
