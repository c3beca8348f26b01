// The differentiable op library: include this to get every op.
#pragma once
#include "engine/autograd.h"
#include "engine/ops/attention.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/embedding.h"
#include "engine/ops/linalg.h"
#include "engine/ops/loss.h"
#include "engine/ops/norm.h"
#include "engine/ops/random.h"
#include "engine/ops/reduce.h"
#include "engine/ops/resample.h"
#include "engine/tensor.h"
