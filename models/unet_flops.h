// Analytic floating-point operation count of the UNet, for MFU figures in benchmarks.
// Counts the multiply-adds of convolutions, linear layers and the two attention products as 2
// FLOPs each; normalisation, activations and other elementwise work are left out (they are
// memory-bound and a small fraction). A training step is taken as 3× the forward pass
// (backward computes a gradient for the input and one for the weights of every product).
#pragma once
#include <cstdint>

#include "models/unet_config.h"

namespace s2dm {

double unet_forward_flops(const UNetConfig& cfg, int64_t batch);
inline double unet_train_step_flops(const UNetConfig& cfg, int64_t batch) {
  return 3.0 * unet_forward_flops(cfg, batch);
}

}  // namespace s2dm
