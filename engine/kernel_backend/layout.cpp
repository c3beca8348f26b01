// KernelBackend: constant fills and copies, of any strides and (copies) between any dtypes.
#include <type_traits>

#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"
#include "kernels/layout.cuh"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

namespace {

// f(element) with the type a kernel stores for dt: bfloat16 travels as its uint16_t bits.
template <typename F>
void dispatch_storage(DType dt, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); return;
    case DType::F64: f(double{}); return;
    case DType::BF16: f(uint16_t{}); return;
  }
}

template <typename T>
T stored_value(double v) {
  if constexpr (std::is_same_v<T, uint16_t>) return float_to_bf16(static_cast<float>(v));
  else return static_cast<T>(v);
}

}  // namespace

void KernelBackend::fill(Tensor& out, double value) {
  S2DM_CHECK(out.defined() && out.device() == device(), "fill: the tensor must be on {}",
             device().str());
  const int64_t n = out.numel();
  if (n == 0) return;
  kernels::StridedLayout<1> layout;
  S2DM_CHECK(kernels::make_strided_layout<1>(out.shape(), {&out.strides()}, layout),
             "fill: {} has more than {} dims that do not merge", out.str(),
             kernels::kMaxStridedRank);
  cudaStream_t s = begin();
  dispatch_storage(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(out.raw());
    if (layout.linear()) kernels::launch_fill(p, n, stored_value<T>(value), s);
    else kernels::launch_strided_fill(p, layout, stored_value<T>(value), s);
  });
  check_launch();
}

void KernelBackend::copy(const Tensor& src, Tensor& dst) {
  S2DM_CHECK(src.shape() == dst.shape(), "copy: {} into {}", src.str(), dst.str());
  for (const Tensor* t : std::initializer_list<const Tensor*>{&src, &dst})
    S2DM_CHECK(t->defined() && t->device() == device(), "copy: both tensors must be on {}",
               device().str());
  if (src.numel() == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    if (src.raw() == dst.raw()) return;
    begin();
    copy_bytes(dst.raw(), src.raw(), src.nbytes());
    return;
  }
  kernels::StridedLayout<2> layout;
  S2DM_CHECK(kernels::make_strided_layout<2>(src.shape(), {&src.strides(), &dst.strides()},
                                             layout),
             "copy: {} into {} has more than {} dims that do not merge", src.str(), dst.str(),
             kernels::kMaxStridedRank);
  cudaStream_t s = begin();
  dispatch_storage(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    dispatch_storage(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      kernels::launch_strided_copy<S, D>(static_cast<const S*>(src.raw()),
                                         static_cast<D*>(dst.raw()), layout, s);
    });
  });
  check_launch();
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
