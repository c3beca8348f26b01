// Dropout.
#pragma once
#include "engine/ops/random.h"
#include "engine/tensor.h"

namespace s2dm {

// Inverted dropout: zero with probability p, scale kept values by 1/(1-p). Identity when !training.
Tensor dropout(const Tensor& x, double p, Generator& gen, bool training = true);

}  // namespace s2dm
