// Cases: elementwise ops.
#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

void add_elementwise_cases(std::vector<OpCase>&) {}

}  // namespace s2dm::backend_ops
