// KernelBackend ops whose kernels are not written yet: each reports itself and the fix.
#include "engine/kernel_backend/kernel_backend.h"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

void KernelBackend::unary(UnaryOp, const Tensor&, Tensor&) { not_available("unary"); }
void KernelBackend::unary_backward(UnaryOp, const Tensor&, const Tensor&, Tensor&) {
  not_available("unary_backward");
}
void KernelBackend::binary(BinaryOp, const Tensor&, const Tensor&, Tensor&) {
  not_available("binary");
}
void KernelBackend::scalar(ScalarOp, const Tensor&, double, Tensor&) { not_available("scalar"); }
void KernelBackend::axpy(Tensor&, double, const Tensor&) { not_available("axpy"); }
void KernelBackend::sum_to(const Tensor&, Tensor&) { not_available("sum_to"); }
double KernelBackend::sum_squares(const Tensor&) { not_available("sum_squares"); }
void KernelBackend::softmax_forward(const Tensor&, Tensor&) { not_available("softmax_forward"); }
void KernelBackend::softmax_backward(const Tensor&, const Tensor&, Tensor&) {
  not_available("softmax_backward");
}
void KernelBackend::attention_forward(const Tensor&, const Tensor&, const Tensor&, double,
                                      Tensor&, Tensor&) {
  not_available("attention_forward");
}
void KernelBackend::attention_backward(const Tensor&, const Tensor&, const Tensor&,
                                       const Tensor&, const Tensor&, const Tensor&, double,
                                       Tensor&, Tensor&, Tensor&) {
  not_available("attention_backward");
}
void KernelBackend::upsample_nearest2x_forward(const Tensor&, Tensor&) {
  not_available("upsample_nearest2x_forward");
}
void KernelBackend::upsample_nearest2x_backward(const Tensor&, Tensor&) {
  not_available("upsample_nearest2x_backward");
}
void KernelBackend::pad2d_forward(const Tensor&, Pad2dParams, Tensor&) {
  not_available("pad2d_forward");
}
void KernelBackend::pad2d_backward(const Tensor&, Pad2dParams, Tensor&) {
  not_available("pad2d_backward");
}
void KernelBackend::dropout_forward(const Tensor&, double, uint64_t, uint64_t, Tensor&) {
  not_available("dropout_forward");
}
void KernelBackend::dropout_backward(const Tensor&, double, uint64_t, uint64_t, Tensor&) {
  not_available("dropout_backward");
}
void KernelBackend::timestep_embedding_forward(const Tensor&, int64_t, Tensor&) {
  not_available("timestep_embedding_forward");
}
void KernelBackend::timestep_embedding_backward(const Tensor&, int64_t, const Tensor&, Tensor&) {
  not_available("timestep_embedding_backward");
}
void KernelBackend::adam_step(Tensor&, const Tensor&, Tensor&, Tensor&, const AdamParams&) {
  not_available("adam_step");
}
void KernelBackend::ema_update(Tensor&, const Tensor&, double) { not_available("ema_update"); }

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
