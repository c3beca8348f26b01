// all_cases(): every family's cases in one list.
#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

std::vector<OpCase> all_cases() {
  std::vector<OpCase> cases;
  add_layout_cases(cases);
  add_elementwise_cases(cases);
  add_dropout_cases(cases);
  add_reduce_cases(cases);
  add_linalg_cases(cases);
  add_conv_cases(cases);
  add_norm_cases(cases);
  add_attention_cases(cases);
  add_softmax_cases(cases);
  add_resample_cases(cases);
  add_pool_cases(cases);
  add_embedding_cases(cases);
  add_random_cases(cases);
  add_optim_cases(cases);
  add_loss_cases(cases);
  return cases;
}

}  // namespace s2dm::backend_ops
