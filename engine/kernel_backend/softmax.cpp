// KernelBackend: last-dim softmax on kernels/softmax.cu, and the row softmax with log-sum-exp that
// attention's product path uses.
#include "engine/cpu/dispatch.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/softmax.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

// x viewed as [rows, cols] over its last dim (a 0-d tensor is one row of one element).
struct Rows {
  int64_t rows, cols;
};
Rows softmax_rows(const Tensor& x) {
  const int64_t cols = x.dim() == 0 ? 1 : x.size(-1);
  return {cols == 0 ? 0 : x.numel() / cols, cols};
}

}  // namespace

void KernelBackend::softmax_forward(const Tensor& x, Tensor& y) {
  require_contiguous("softmax_forward", {&x, &y});
  S2DM_CHECK(y.shape() == x.shape() && y.dtype() == x.dtype(),
             "softmax_forward: y {} does not match x {}", y.str(), x.str());
  const Rows r = softmax_rows(x);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_softmax_forward<T>(x.data<T>(), r.rows, r.cols, y.data<T>(), nullptr, s);
  });
  check_launch();
}

void KernelBackend::softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  require_contiguous("softmax_backward", {&y, &dy, &dx});
  S2DM_CHECK(dy.shape() == y.shape() && dx.shape() == y.shape() && dy.dtype() == y.dtype() &&
                 dx.dtype() == y.dtype(),
             "softmax_backward: dy {} and dx {} do not match y {}", dy.str(), dx.str(), y.str());
  const Rows r = softmax_rows(y);
  cudaStream_t s = begin();
  cpu::dispatch_float(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_softmax_backward<T>(y.data<T>(), dy.data<T>(), r.rows, r.cols, dx.data<T>(),
                                        s);
  });
  check_launch();
}

void KernelBackend::softmax_rows_with_lse(Tensor& p, Tensor& lse) {
  const Rows r = softmax_rows(p);
  cudaStream_t s = begin();
  cpu::dispatch_float(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_softmax_forward<T>(p.data<T>(), r.rows, r.cols, p.data<T>(),
                                       lse.defined() ? lse.data<T>() : nullptr, s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
