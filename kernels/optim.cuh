// Adam, parameter EMA and the two fused, over flat buffers of n elements on the GPU (or the SIMT
// emulator), with the semantics of Backend::adam_step, ema_update and adam_ema_step: the
// per-element arithmetic is kernels/adam_math.h, the CPU backend's.
#pragma once
#include <cstdint>

#include "kernels/adam_math.h"
#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// param, m, v updated in place from grad.
template <typename T>
void launch_adam_step(T* param, const T* grad, T* m, T* v, int64_t n,
                      const adam::Coefficients<T>& c, cudaStream_t stream);

// ema = decay·ema + one_minus_decay·param.
template <typename T>
void launch_ema_update(T* ema, const T* param, int64_t n, T decay, T one_minus_decay,
                       cudaStream_t stream);

// launch_adam_step, then launch_ema_update from the updated param, in one pass.
template <typename T>
void launch_adam_ema_step(T* param, const T* grad, T* m, T* v, T* ema, int64_t n,
                          const adam::Coefficients<T>& c, T decay, T one_minus_decay,
                          cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
