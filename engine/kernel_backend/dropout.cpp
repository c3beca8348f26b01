// KernelBackend: dropout on kernels/dropout.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/dropout.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

void require_same_numel(std::string_view op, const Tensor& a, const Tensor& b) {
  S2DM_CHECK(a.numel() == b.numel(), "{}: {} and {} differ in size", op, a.str(), b.str());
}

// The CPU backend's scale and threshold, so the kernel's mask and values equal its bit for bit.
template <typename T>
void launch_dropout(const Tensor& in, Tensor& out, double p, uint64_t seed, uint64_t offset,
                    cudaStream_t s) {
  kernels::launch_dropout<T>(in.data<T>(), out.data<T>(), in.numel(), static_cast<float>(p),
                             static_cast<T>(1.0 / (1.0 - p)), seed, offset, s);
}

}  // namespace

void KernelBackend::dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset,
                                    Tensor& y) {
  require_contiguous("dropout_forward", {&x, &y});
  require_same_numel("dropout_forward", x, y);
  cudaStream_t s = begin();
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    launch_dropout<decltype(tag)>(x, y, p, seed, offset, s);
  });
  check_launch();
}

// The mask is regenerated from (seed, offset) rather than stored.
void KernelBackend::dropout_backward(const Tensor& dy, double p, uint64_t seed, uint64_t offset,
                                     Tensor& dx) {
  require_contiguous("dropout_backward", {&dy, &dx});
  require_same_numel("dropout_backward", dy, dx);
  cudaStream_t s = begin();
  cpu::dispatch_float(dy.dtype(), [&](auto tag) {
    launch_dropout<decltype(tag)>(dy, dx, p, seed, offset, s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
