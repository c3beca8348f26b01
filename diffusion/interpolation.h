// Spherical interpolation between two noise tensors (docs/method.md §6, the DDIM paper's latent
// interpolation): z(a) = sin((1−a)θ)/sinθ·z1 + sin(aθ)/sinθ·z2, θ the angle between z1 and z2 taken
// over all elements. Each z(a) is then sampled with DDIM η = 0 by the caller.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

// Falls back to linear interpolation when z1 and z2 are (numerically) parallel; throws when they
// are antipodal (the great circle is not unique) or either is zero, or shapes differ.
Tensor slerp(const Tensor& z1, const Tensor& z2, double a);

// The interpolation weights 0, 1/(count−1), …, 1; count = 11 gives the reference 0, 0.1, …, 1.
std::vector<double> interpolation_weights(int64_t count = 11);

}  // namespace s2dm
