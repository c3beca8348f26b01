// The DDPM sinusoidal timestep embedding.
#pragma once
#include "engine/tensor.h"

namespace s2dm {

// t [N] (float; fractional steps allowed) -> [N, dim]: half = dim/2, f_i = exp(-ln(10000) i/(half-1)),
// emb = [sin(t f), cos(t f)], zero-padded by one column when dim is odd. Differentiable in t.
Tensor timestep_embedding(const Tensor& t, int64_t dim);

}  // namespace s2dm
