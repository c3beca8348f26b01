// CPU layout ops: fill and copy of strided views (copy with dtype conversion).
#include "engine/cpu/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"

namespace s2dm {

namespace {
template <typename T>
void fill_view(Tensor& out, T value) {
  T* p = static_cast<T*>(out.raw());
  cpu::strided_rows<1>(out.shape(), {out.strides()},
                       [&](const auto& o, int64_t len, const auto& inner) {
    for (int64_t j = 0; j < len; ++j) p[o[0] + j * inner[0]] = value;
  });
}
}  // namespace

void CpuBackend::fill(Tensor& out, double value) {
  if (!out.is_contiguous()) {  // a strided view: the elements it covers and no others
    switch (out.dtype()) {
      case DType::F32: fill_view(out, static_cast<float>(value)); break;
      case DType::F64: fill_view(out, value); break;
      case DType::BF16: fill_view(out, float_to_bf16(static_cast<float>(value))); break;
    }
    return;
  }
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
  cpu::strided_rows<2>(src.shape(), {src.strides(), dst.strides()},
                       [&](const auto& o, int64_t len, const auto& inner) {
    const S* rs = s + o[0];
    D* rd = d + o[1];
    auto convert = [](S v) -> D {
      if constexpr (std::is_same_v<S, D>) return v;
      else if constexpr (std::is_same_v<S, uint16_t>) return static_cast<D>(bf16_to_float(v));
      else if constexpr (std::is_same_v<D, uint16_t>) return float_to_bf16(static_cast<float>(v));
      else return static_cast<D>(v);
    };
    if (inner[0] == 1 && inner[1] == 1) {
      for (int64_t j = 0; j < len; ++j) rd[j] = convert(rs[j]);
    } else {
      for (int64_t j = 0; j < len; ++j) rd[j * inner[1]] = convert(rs[j * inner[0]]);
    }
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
