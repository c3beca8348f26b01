// Softmax.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

// Softmax over dim (default last).
Tensor softmax(const Tensor& x, int64_t dim = -1);

}  // namespace s2dm
