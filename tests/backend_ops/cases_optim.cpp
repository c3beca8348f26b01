// Cases: optim ops.
#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

void add_optim_cases(std::vector<OpCase>&) {}

}  // namespace s2dm::backend_ops
