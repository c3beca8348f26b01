// KernelBackend: sum_to and sum_squares on kernels/reduce.cu.
#include <vector>

#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "engine/reduce_segments.h"
#include "kernels/reduce.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

// x's dims split into kept and reduced ones. x is dense, so neighbouring dims of the same kind
// merge into one (as in the CPU backend) and size-1 dims drop out.
kernels::SumToShape sum_to_shape(const Tensor& x, const Tensor& out) {
  const std::vector<ReduceSegment> seg = reduce_segments(x, out);
  kernels::SumToShape s;
  int64_t stride = x.numel();
  for (const ReduceSegment& g : seg) {
    stride /= g.size;
    int& rank = g.reduced ? s.red_rank : s.kept_rank;
    S2DM_CHECK(rank < kernels::kMaxReduceRank, "sum_to: {} to {} alternates too often", x.str(),
               out.str());
    (g.reduced ? s.red_size : s.kept_size)[rank] = g.size;
    (g.reduced ? s.red_stride : s.kept_stride)[rank] = stride;
    ++rank;
  }
  return s;
}

}  // namespace

void KernelBackend::sum_to(const Tensor& x, Tensor& out) {
  require_contiguous("sum_to", {&x, &out});
  const kernels::SumToShape shape = sum_to_shape(x, out);
  if (out.numel() == 0) return;
  if (x.numel() == 0) {  // an empty sum
    fill(out, 0.0);
    return;
  }
  const int64_t work_size = kernels::sum_to_workspace(shape);
  const Tensor work = work_size > 0 ? Tensor::empty({work_size}, DType::F64, device()) : Tensor();
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_sum_to<T>(x.data<T>(), shape, out.data<T>(),
                              work.defined() ? work.data<double>() : nullptr, s);
  });
  check_launch();
}

// Into a one-element device tensor that stays there: the optimizer reads it on the device.
void KernelBackend::sum_squares(const Tensor& x, Tensor& out) {
  require_contiguous("sum_squares", {&x, &out});
  S2DM_CHECK(out.numel() == 1 && out.dtype() == DType::F64,
             "sum_squares: out must be one float64 element, got {}", out.str());
  const int64_t n = x.numel();
  if (n == 0) {
    fill(out, 0.0);
    return;
  }
  const int64_t work_size = kernels::sum_squares_workspace(n);
  const Tensor work = work_size > 0 ? Tensor::empty({work_size}, DType::F64, device()) : Tensor();
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_sum_squares<T>(x.data<T>(), n, out.data<double>(),
                                   work.defined() ? work.data<double>() : nullptr, s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
