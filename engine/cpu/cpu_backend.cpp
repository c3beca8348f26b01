// CPU backend: memory, fill and strided copy (with dtype conversion).
#include "engine/cpu/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"

namespace s2dm {

Backend& cpu_backend() {
  static CpuBackend b;
  return b;
}

void* CpuBackend::allocate(size_t nbytes) {
  const size_t aligned = (nbytes + 63) / 64 * 64;  // 64-byte alignment for SIMD and BLAS
  void* p = std::aligned_alloc(64, aligned);
  S2DM_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
  return p;
}

void CpuBackend::deallocate(void* p, size_t) { std::free(p); }
void CpuBackend::copy_from_host(void* dst, const void* src, size_t n) { std::memcpy(dst, src, n); }
void CpuBackend::copy_to_host(void* dst, const void* src, size_t n) { std::memcpy(dst, src, n); }

void CpuBackend::fill(Tensor& out, double value) {
  const int64_t n = out.numel();
  if (out.dtype() == DType::BF16) {
    const uint16_t v = float_to_bf16(static_cast<float>(value));
    uint16_t* p = out.data<uint16_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = v;
    return;
  }
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    T* p = out.data<T>();
    const T v = static_cast<T>(value);
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) p[i] = v;
  });
}

namespace {

template <typename S, typename D>
void copy_typed(const Tensor& src, Tensor& dst) {
  const S* s = static_cast<const S*>(src.raw());
  D* d = static_cast<D*>(dst.raw());
  if (src.is_contiguous() && dst.is_contiguous()) {
    const int64_t n = src.numel();
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<S, uint16_t> && std::is_same_v<D, uint16_t>) d[i] = s[i];
      else if constexpr (std::is_same_v<S, uint16_t>) d[i] = static_cast<D>(bf16_to_float(s[i]));
      else if constexpr (std::is_same_v<D, uint16_t>) d[i] = float_to_bf16(static_cast<float>(s[i]));
      else d[i] = static_cast<D>(s[i]);
    }
    return;
  }
  cpu::strided_for<2>(src.shape(), {src.strides(), dst.strides()}, [&](const auto& o) {
    if constexpr (std::is_same_v<S, uint16_t> && std::is_same_v<D, uint16_t>) d[o[1]] = s[o[0]];
    else if constexpr (std::is_same_v<S, uint16_t>) d[o[1]] = static_cast<D>(bf16_to_float(s[o[0]]));
    else if constexpr (std::is_same_v<D, uint16_t>) d[o[1]] = float_to_bf16(static_cast<float>(s[o[0]]));
    else d[o[1]] = static_cast<D>(s[o[0]]);
  });
}

template <typename S>
void copy_from(const Tensor& src, Tensor& dst) {
  switch (dst.dtype()) {
    case DType::F32: copy_typed<S, float>(src, dst); break;
    case DType::F64: copy_typed<S, double>(src, dst); break;
    case DType::BF16: copy_typed<S, uint16_t>(src, dst); break;
  }
}
}  // namespace

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  S2DM_CHECK(src.shape() == dst.shape(), "copy: shape {} into {}", shape_str(src.shape()),
             shape_str(dst.shape()));
  switch (src.dtype()) {
    case DType::F32: copy_from<float>(src, dst); break;
    case DType::F64: copy_from<double>(src, dst); break;
    case DType::BF16: copy_from<uint16_t>(src, dst); break;
  }
}

}  // namespace s2dm
