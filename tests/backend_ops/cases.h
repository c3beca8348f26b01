// The harness's case lists, one function per op family (cases_<family>.cpp).
#pragma once
#include <vector>

#include "tests/backend_ops/harness.h"

namespace s2dm::backend_ops {

void add_layout_cases(std::vector<OpCase>& cases);       // fill, copy
void add_elementwise_cases(std::vector<OpCase>& cases);  // unary, clamp, binary, scalar, axpy
void add_dropout_cases(std::vector<OpCase>& cases);      // dropout
void add_reduce_cases(std::vector<OpCase>& cases);       // sum_to, sum_squares
void add_linalg_cases(std::vector<OpCase>& cases);       // gemm
void add_conv_cases(std::vector<OpCase>& cases);         // conv2d
void add_norm_cases(std::vector<OpCase>& cases);         // group norm
void add_attention_cases(std::vector<OpCase>& cases);    // attention
void add_softmax_cases(std::vector<OpCase>& cases);      // softmax
void add_resample_cases(std::vector<OpCase>& cases);     // upsample, pad, bilinear resize
void add_pool_cases(std::vector<OpCase>& cases);         // max and average pooling
void add_embedding_cases(std::vector<OpCase>& cases);    // timestep embedding
void add_random_cases(std::vector<OpCase>& cases);       // Philox fills
void add_optim_cases(std::vector<OpCase>& cases);        // Adam, EMA
void add_loss_cases(std::vector<OpCase>& cases);         // fused S²-DM loss

}  // namespace s2dm::backend_ops
