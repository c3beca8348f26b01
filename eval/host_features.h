// Feature matrices [N, D] brought to the host and validated once, for the statistics and KID.
#pragma once
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace s2dm::eval_detail {

// `features` as a contiguous CPU tensor of its own dtype (float32 or float64; bfloat16 is widened
// to float32). Fails on a tensor that is not [N, D] with D >= 1, and on NaN/Inf, naming the
// first bad sample as `first_index` + its row. `what` names the features in messages.
Tensor host_features(const Tensor& features, const std::string& what, int64_t first_index = 0);

// Rows [begin, begin + n) of a host_features() tensor as doubles, row-major, into `out`.
void rows_as_double(const Tensor& host, int64_t begin, int64_t n, double* out);
// One row (index `row`) as doubles.
void row_as_double(const Tensor& host, int64_t row, double* out);

}  // namespace s2dm::eval_detail
