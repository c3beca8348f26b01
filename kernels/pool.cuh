// max_pool2d and avg_pool2d, forward and backward, on the GPU (or the SIMT emulator), with the
// semantics of the Backend ops of the same names (engine/backend_ops.h) and the window rules of
// kernels/pool_math.h. Tensors are [planes, H, W] (input) and [planes, Ho, Wo] (output), planes =
// N·C.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"
#include "kernels/pool_math.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// y = the maximum of each window of x.
template <typename T>
void launch_max_pool2d_forward(const T* x, int64_t planes, pool::Geometry g, T* y,
                               cudaStream_t stream);
// dx = the sum of dy over the windows whose argmax (recomputed from x) each element is.
template <typename T>
void launch_max_pool2d_backward(const T* x, const T* dy, int64_t planes, pool::Geometry g, T* dx,
                                cudaStream_t stream);
// y = each window's sum over pool::avg_divisor.
template <typename T>
void launch_avg_pool2d_forward(const T* x, int64_t planes, pool::Geometry g, T* y,
                               cudaStream_t stream);
// dx = the sum of dy / divisor over the windows covering each element.
template <typename T>
void launch_avg_pool2d_backward(const T* dy, int64_t planes, pool::Geometry g, T* dx,
                                cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
