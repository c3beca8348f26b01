// PLACEHOLDER: replaced by attention.
#include "engine/cpu/cpu_backend.h"
#include "engine/error.h"
namespace s2dm {
void CpuBackend::attention_forward(const Tensor&, const Tensor&, const Tensor&, double, Tensor&, Tensor&) { fail("pending"); }
void CpuBackend::attention_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double, Tensor&, Tensor&, Tensor&) { fail("pending"); }
}  // namespace s2dm
