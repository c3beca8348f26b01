// PLACEHOLDER
#include "engine/ops/resample.h"
#include "engine/error.h"
namespace s2dm {
Tensor upsample_nearest2x(const Tensor&) { fail("pending"); }
Tensor pad2d(const Tensor&, int, int, int, int, double) { fail("pending"); }
Tensor concat(const std::vector<Tensor>&, int64_t) { fail("pending"); }
}  // namespace s2dm
