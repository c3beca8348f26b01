// Cases: attention ops.
#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

void add_attention_cases(std::vector<OpCase>&) {}

}  // namespace s2dm::backend_ops
