// Reductions.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

Tensor sum(const Tensor& x);  // all elements -> shape []
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Sum x down to `shape` (x's shape broadcast from `shape`): the adjoint of expand.
Tensor sum_to_shape(const Tensor& x, const Shape& shape);

}  // namespace s2dm
