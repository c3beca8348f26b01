// PLACEHOLDER: replaced by upsample, pad and timestep embedding.
#include "engine/cpu/cpu_backend.h"
#include "engine/error.h"
namespace s2dm {
void CpuBackend::upsample_nearest2x_forward(const Tensor&, Tensor&) { fail("pending"); }
void CpuBackend::upsample_nearest2x_backward(const Tensor&, Tensor&) { fail("pending"); }
void CpuBackend::pad2d_forward(const Tensor&, Pad2dParams, Tensor&) { fail("pending"); }
void CpuBackend::pad2d_backward(const Tensor&, Pad2dParams, Tensor&) { fail("pending"); }
void CpuBackend::timestep_embedding_forward(const Tensor&, int64_t, Tensor&) { fail("pending"); }
void CpuBackend::timestep_embedding_backward(const Tensor&, int64_t, const Tensor&, Tensor&) { fail("pending"); }
}  // namespace s2dm
