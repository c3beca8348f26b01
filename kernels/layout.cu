// The layout family: strided copy with dtype conversion, strided constant fill, and the constant
// fill of a contiguous buffer (one thread per element, grid-stride, so any n fits one launch).
//
// Launch shape: blocks of 256 threads over tiles of 4·256 elements of the destination's row-major
// index (grid-stride over tiles, the grid capped at 65535 blocks); thread t of a tile handles
// elements t, t+256, t+512, t+768. Each element's source and destination offsets come from the
// host-coalesced StridedLayout, so the common cases cost few divisions: a contiguous view of any
// rank is one dim, a slice two. When both sides are dense the layout is linear and a kernel with
// no index arithmetic runs instead. Writes are coalesced whenever the destination's innermost
// dim is dense; a transposing copy reads with a stride, which the layouts this engine copies
// (small attention transposes) tolerate.
//
// bfloat16 conversions are engine/dtype.h's, bit for bit: float → bfloat16 rounds to nearest
// even and keeps NaN a (quiet) NaN; double → bfloat16 goes through float as on the host.
#include "kernels/layout.cuh"

#include <type_traits>

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;
constexpr int kUnroll = 4;
constexpr int64_t kTile = int64_t{kBlock} * kUnroll;
__device__ __forceinline__ float bf16_to_float_bits(uint16_t h) {
  return __uint_as_float(static_cast<unsigned>(h) << 16);
}

__device__ __forceinline__ uint16_t float_to_bf16_bits(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

template <typename S, typename D>
__device__ __forceinline__ D convert(S v) {
  if constexpr (std::is_same_v<S, D>) return v;
  else if constexpr (std::is_same_v<S, uint16_t>) return static_cast<D>(bf16_to_float_bits(v));
  else if constexpr (std::is_same_v<D, uint16_t>) return float_to_bf16_bits(static_cast<float>(v));
  else return static_cast<D>(v);
}

// f(i) for every row-major index i < n over this block's tiles.
template <typename F>
__device__ __forceinline__ void for_each_index(int64_t n, F f) {
  for (int64_t base = blockIdx.x * kTile; base < n; base += gridDim.x * kTile) {
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + threadIdx.x + u * kBlock;
      if (i >= n) return;  // the last tile: no later one exists
      f(i);
    }
  }
}

template <typename S, typename D>
__global__ void __launch_bounds__(kBlock) copy_dense_kernel(const S* src, D* dst, int64_t n) {
  for_each_index(n, [&](int64_t i) { dst[i] = convert<S, D>(src[i]); });
}

template <typename S, typename D>
__global__ void __launch_bounds__(kBlock)
    copy_strided_kernel(const S* src, D* dst, StridedLayout<2> layout, int64_t n) {
  for_each_index(n, [&](int64_t i) {
    int64_t off[2];
    strided_offsets(layout, i, off);
    dst[off[1]] = convert<S, D>(src[off[0]]);
  });
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    fill_strided_kernel(T* out, StridedLayout<1> layout, int64_t n, T value) {
  for_each_index(n, [&](int64_t i) {
    int64_t off[1];
    strided_offsets(layout, i, off);
    out[off[0]] = value;
  });
}

}  // namespace

template <typename S, typename D>
void launch_strided_copy(const S* src, D* dst, const StridedLayout<2>& layout,
                         cudaStream_t stream) {
  const int64_t n = layout.numel();
  if (n <= 0) return;
  if (layout.linear())
    launch(copy_dense_kernel<S, D>, blocks_for(n, kTile), kBlock, 0, stream, src, dst, n);
  else
    launch(copy_strided_kernel<S, D>, blocks_for(n, kTile), kBlock, 0, stream, src, dst, layout, n);
}

template <typename T>
void launch_strided_fill(T* out, const StridedLayout<1>& layout, T value, cudaStream_t stream) {
  const int64_t n = layout.numel();
  if (n <= 0) return;
  launch(fill_strided_kernel<T>, blocks_for(n, kTile), kBlock, 0, stream, out, layout, n, value);
}

#define S2DM_INSTANTIATE_COPY(S, D) \
  template void launch_strided_copy<S, D>(const S*, D*, const StridedLayout<2>&, cudaStream_t);
#define S2DM_INSTANTIATE_COPIES_FROM(S) \
  S2DM_INSTANTIATE_COPY(S, float)       \
  S2DM_INSTANTIATE_COPY(S, double)      \
  S2DM_INSTANTIATE_COPY(S, uint16_t)
S2DM_INSTANTIATE_COPIES_FROM(float)
S2DM_INSTANTIATE_COPIES_FROM(double)
S2DM_INSTANTIATE_COPIES_FROM(uint16_t)
#undef S2DM_INSTANTIATE_COPIES_FROM
#undef S2DM_INSTANTIATE_COPY

template void launch_strided_fill<float>(float*, const StridedLayout<1>&, float, cudaStream_t);
template void launch_strided_fill<double>(double*, const StridedLayout<1>&, double, cudaStream_t);
template void launch_strided_fill<uint16_t>(uint16_t*, const StridedLayout<1>&, uint16_t,
                                            cudaStream_t);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {
constexpr int kFillBlock = 256;

template <typename T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = value;
}
}  // namespace

template <typename T>
void launch_fill(T* out, int64_t n, T value, cudaStream_t stream) {
  if (n <= 0) return;
  launch(fill_kernel<T>, blocks_for(n, kFillBlock), kFillBlock, 0, stream, out, n, value);
}

template void launch_fill<float>(float*, int64_t, float, cudaStream_t);
template void launch_fill<double>(double*, int64_t, double, cudaStream_t);
template void launch_fill<uint16_t>(uint16_t*, int64_t, uint16_t, cudaStream_t);

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
