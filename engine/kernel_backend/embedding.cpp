// KernelBackend: the sinusoidal timestep embedding on kernels/embedding.cu.
#include "engine/cpu/dispatch.h"
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/embedding.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

void require_embedding(std::string_view op, const Tensor& t, int64_t dim, const Tensor& emb) {
  S2DM_CHECK(t.dim() == 1, "{}: t must be 1-D, got {}", op, t.str());
  S2DM_CHECK(dim >= 4, "{}: dim must be at least 4, got {}", op, dim);
  S2DM_CHECK(emb.shape() == (Shape{t.size(0), dim}) && emb.dtype() == t.dtype(),
             "{}: {} should be [{}, {}] of t's dtype", op, emb.str(), t.size(0), dim);
}

}  // namespace

void KernelBackend::timestep_embedding_forward(const Tensor& t, int64_t dim, Tensor& emb) {
  constexpr std::string_view op = "timestep_embedding_forward";
  require_contiguous(op, {&t, &emb});
  require_embedding(op, t, dim, emb);
  cudaStream_t s = begin();
  cpu::dispatch_float(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_timestep_embedding_forward<T>(t.data<T>(), t.size(0), dim, emb.data<T>(), s);
  });
  check_launch();
}

void KernelBackend::timestep_embedding_backward(const Tensor& t, int64_t dim, const Tensor& demb,
                                                Tensor& dt) {
  constexpr std::string_view op = "timestep_embedding_backward";
  require_contiguous(op, {&t, &demb, &dt});
  require_embedding(op, t, dim, demb);
  S2DM_CHECK(dt.shape() == t.shape() && dt.dtype() == t.dtype(), "{}: dt {} does not match t {}",
             op, dt.str(), t.str());
  cudaStream_t s = begin();
  cpu::dispatch_float(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::launch_timestep_embedding_backward<T>(t.data<T>(), demb.data<T>(), t.size(0), dim,
                                                   dt.data<T>(), s);
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
