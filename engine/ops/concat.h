// Concatenation.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

// Concatenate along dim (all other dims equal).
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);

}  // namespace s2dm
