#include "tests/hashed_values.h"

namespace s2dm::test {

std::vector<double> hashed_values(int64_t n, uint64_t seed, double scale, double shift) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull + seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1p-53;
    v[static_cast<size_t>(i)] = scale * (2.0 * u - 1.0) + shift;
  }
  return v;
}

Tensor hashed_f32(const Shape& shape, uint64_t seed, double scale, double shift) {
  return Tensor::from_vector(hashed_values(shape_numel(shape), seed, scale, shift), shape, DType::F32);
}

Tensor every_nth(const Tensor& t, int64_t stride) {
  const auto v = t.to_vector();
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); i += static_cast<size_t>(stride)) out.push_back(v[i]);
  return Tensor::from_vector(out, {static_cast<int64_t>(out.size())});
}

}  // namespace s2dm::test
