// Dropout on the GPU (or the SIMT emulator) with the semantics of Backend::dropout_forward and
// dropout_backward (engine/backend_ops.h).
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

// out[i] = in[i]·scale where philox::uniform_at(seed, offset, i) >= p, else 0: dropout's forward
// and (with the same seed and offset, so the same mask) its backward.
template <typename T>
void launch_dropout(const T* in, T* out, int64_t n, float p, T scale, uint64_t seed,
                    uint64_t offset, cudaStream_t stream);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
