// Nearest 2x upsampling, constant 2-D padding and bilinear resizing, forward and backward, on the
// GPU (or the SIMT emulator), with the semantics of the Backend ops of the same names
// (engine/backend_ops.h). Spatial tensors are [planes, H, W] with planes = N·C.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

struct PlaneShape {
  int64_t planes = 0, h = 0, w = 0;  // of the smaller tensor: x, or dx in backward
};

struct Pad2d {
  int64_t left = 0, right = 0, top = 0, bottom = 0;
};

// y [planes, 2H, 2W] from x [planes, H, W].
template <typename T>
void launch_upsample_nearest2x_forward(const T* x, PlaneShape shape, T* y, cudaStream_t stream);
// dx [planes, H, W] = the sum of each 2x2 window of dy [planes, 2H, 2W].
template <typename T>
void launch_upsample_nearest2x_backward(const T* dy, PlaneShape shape, T* dx, cudaStream_t stream);

// y [planes, top+H+bottom, left+W+right]: x inside, value outside.
template <typename T>
void launch_pad2d_forward(const T* x, PlaneShape shape, Pad2d pad, T value, T* y,
                          cudaStream_t stream);
// dx [planes, H, W]: the interior of dy.
template <typename T>
void launch_pad2d_backward(const T* dy, PlaneShape shape, Pad2d pad, T* dx, cudaStream_t stream);

// y [planes, Ho, Wo] = x [planes, H, W] resized bilinearly (kernels/resample_math.h).
template <typename T>
void launch_upsample_bilinear2d_forward(const T* x, PlaneShape shape, int64_t ho, int64_t wo, T* y,
                                        cudaStream_t stream);
// dx [planes, H, W] = the transpose of the forward resize applied to dy [planes, Ho, Wo].
template <typename T>
void launch_upsample_bilinear2d_backward(const T* dy, PlaneShape shape, int64_t ho, int64_t wo,
                                         T* dx, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
