#include "eval/host_features.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace s2dm::eval_detail {

namespace {

template <typename T>
void check_finite(const T* p, int64_t n, int64_t d, const std::string& what, int64_t first_index) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      const T v = p[i * d + j];
      if (!std::isfinite(v)) {
        fail("{}: sample {} has a non-finite value ({}) at feature {}; the features must be finite "
             "(check the images and the feature extractor for that sample)",
             what, first_index + i, static_cast<double>(v), j);
      }
    }
  }
}

}  // namespace

Tensor host_features(const Tensor& features, const std::string& what, int64_t first_index) {
  S2DM_CHECK(features.defined(), "{}: no tensor given", what);
  S2DM_CHECK(features.dim() == 2 && features.size(1) >= 1,
             "{}: features must be a [N, D] matrix (one row per sample), got {}", what, features.str());
  Tensor host = features.to(Device::cpu());
  if (host.dtype() == DType::BF16) host = host.to(DType::F32);
  host = host.contiguous();
  const int64_t n = host.size(0), d = host.size(1);
  if (host.dtype() == DType::F32) {
    check_finite(host.data<float>(), n, d, what, first_index);
  } else {
    check_finite(host.data<double>(), n, d, what, first_index);
  }
  return host;
}

void rows_as_double(const Tensor& host, int64_t begin, int64_t n, double* out) {
  const int64_t d = host.size(1);
  if (host.dtype() == DType::F64) {
    const double* p = host.data<double>() + begin * d;
    std::copy(p, p + n * d, out);
  } else {
    const float* p = host.data<float>() + begin * d;
    for (int64_t i = 0; i < n * d; ++i) out[i] = p[i];
  }
}

void row_as_double(const Tensor& host, int64_t row, double* out) { rows_as_double(host, row, 1, out); }

}  // namespace s2dm::eval_detail
