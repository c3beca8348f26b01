// Elementwise kernels: unary and its derivative, clamp and its derivative, binary (broadcast and
// strided operands), scalar, axpy and dropout. The per-element math is kernels/elementwise_math.h.
//
// Dense launches: blocks of 256 threads take tiles of 4·256 elements (grid-stride over tiles, the
// grid capped at 65535 blocks); thread t handles elements t, t+256, t+512, t+768 of a tile, so
// every warp access is one coalesced run, and a thread issues its four loads before its first
// store for memory-level parallelism. An output may alias its input at the same index (each
// element is read before it is written, by the thread that writes it). The op is a template
// parameter: the launcher's switch picks the instantiation and the loop itself never branches.
//
// Strided binary: the same tiling over out's row-major index; each element's three offsets come
// from the host-coalesced StridedLayout (a broadcast operand has stride 0). When all three
// operands are dense the layout is linear and the dense kernel runs instead.
//
// Dropout: one thread per Philox counter. Element i takes word i % 4 of counter offset + i / 4
// (kernels/philox.h), so a thread draws one counter and masks its four elements; the uniform,
// the comparison with p and the single multiply by the host-computed scale are exact, which makes
// the result equal to the CPU backend's bit for bit.
//
// Math uses the accurate functions (the kernels are bound by memory, fast intrinsics would buy
// nothing), so float sigmoid/SiLU differ from the CPU backend's polynomial exponential in the
// last bits; the basic arithmetic ops are exact and match it bit for bit.
#include "kernels/elementwise.cuh"

#include <type_traits>

#include "kernels/philox.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;
constexpr int kUnroll = 4;
constexpr int64_t kTile = int64_t{kBlock} * kUnroll;
constexpr int64_t kMaxBlocks = 65535;

int blocks_for(int64_t work_items, int64_t per_block) {
  const int64_t b = ceil_div(work_items, per_block);
  return static_cast<int>(b < kMaxBlocks ? b : kMaxBlocks);
}

__device__ __forceinline__ float exp_of(float v) { return expf(v); }
__device__ __forceinline__ double exp_of(double v) { return exp(v); }
__device__ __forceinline__ float log_of(float v) { return logf(v); }
__device__ __forceinline__ double log_of(double v) { return log(v); }
__device__ __forceinline__ float sqrt_of(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_of(double v) { return sqrt(v); }
__device__ __forceinline__ float pow_of(float v, float e) { return powf(v, e); }
__device__ __forceinline__ double pow_of(double v, double e) { return pow(v, e); }

template <typename T>
__device__ __forceinline__ T sigmoid_of(T x) {
  return T(1) / (T(1) + exp_of(-x));
}

// The Math policy of kernels/elementwise_math.h: CUDA's accurate functions.
struct DeviceMath {
  template <typename T>
  static __device__ __forceinline__ T exp(T v) { return exp_of(v); }
  template <typename T>
  static __device__ __forceinline__ T log(T v) { return log_of(v); }
  template <typename T>
  static __device__ __forceinline__ T sqrt(T v) { return sqrt_of(v); }
  template <typename T>
  static __device__ __forceinline__ T pow(T v, T e) { return pow_of(v, e); }
  template <typename T>
  static __device__ __forceinline__ T sigmoid(T v) { return sigmoid_of(v); }
};

template <UnaryOp Op, typename T>
__device__ __forceinline__ T unary_value(T x) {
  return elementwise::unary_value<Op, DeviceMath>(x);
}
template <UnaryOp Op, typename T>
__device__ __forceinline__ T unary_derivative(T x) {
  return elementwise::unary_derivative<Op, DeviceMath>(x);
}
using elementwise::binary_value;
template <ScalarOp Op, typename T>
__device__ __forceinline__ T scalar_value(T x, T s) {
  return elementwise::scalar_value<Op, DeviceMath>(x, s);
}

// out[i] = f(in[i]...) for every i < n, over this block's tiles (see the file comment).
template <typename T, typename F, typename... In>
__device__ __forceinline__ void map_dense(int64_t n, F f, T* out, const In*... in) {
  for (int64_t base = blockIdx.x * kTile; base < n; base += gridDim.x * kTile) {
    T r[kUnroll] = {};
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + threadIdx.x + u * kBlock;
      if (i < n) r[u] = f(in[i]...);
    }
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + threadIdx.x + u * kBlock;
      if (i < n) out[i] = r[u];
    }
  }
}

template <UnaryOp Op, typename T>
__global__ void __launch_bounds__(kBlock) unary_kernel(const T* x, T* y, int64_t n) {
  map_dense(n, [](T v) { return unary_value<Op>(v); }, y, x);
}

template <UnaryOp Op, typename T>
__global__ void __launch_bounds__(kBlock)
    unary_backward_kernel(const T* x, const T* dy, T* dx, int64_t n) {
  map_dense(n, [](T v, T g) { return g * unary_derivative<Op>(v); }, dx, x, dy);
}

template <BinaryOp Op, typename T>
__global__ void __launch_bounds__(kBlock)
    binary_kernel(const T* a, const T* b, T* out, int64_t n) {
  map_dense(n, [](T u, T v) { return binary_value<Op>(u, v); }, out, a, b);
}

template <BinaryOp Op, typename T>
__global__ void __launch_bounds__(kBlock)
    binary_strided_kernel(const T* a, const T* b, T* out, StridedLayout<3> layout, int64_t n) {
  for (int64_t base = blockIdx.x * kTile; base < n; base += gridDim.x * kTile) {
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + threadIdx.x + u * kBlock;
      if (i >= n) break;
      int64_t off[3];
      strided_offsets(layout, i, off);
      out[off[2]] = binary_value<Op>(a[off[0]], b[off[1]]);
    }
  }
}

template <ScalarOp Op, typename T>
__global__ void __launch_bounds__(kBlock) scalar_kernel(const T* x, T s, T* y, int64_t n) {
  map_dense(n, [s](T v) { return scalar_value<Op>(v, s); }, y, x);
}

template <typename T>
__global__ void __launch_bounds__(kBlock) clamp_kernel(const T* x, T lo, T hi, T* y, int64_t n) {
  map_dense(n, [lo, hi](T v) { return elementwise::clamp_value(v, lo, hi); }, y, x);
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    clamp_backward_kernel(const T* x, T lo, T hi, const T* dy, T* dx, int64_t n) {
  map_dense(n, [lo, hi](T v, T g) { return g * elementwise::clamp_derivative(v, lo, hi); }, dx, x,
            dy);
}

template <typename T>
__global__ void __launch_bounds__(kBlock) axpy_kernel(T* y, T alpha, const T* x, int64_t n) {
  map_dense(n, [alpha](T yv, T xv) { return yv + alpha * xv; }, y, y, x);
}

template <typename T>
__global__ void __launch_bounds__(kBlock) dropout_kernel(const T* in, T* out, int64_t n, float p,
                                                         T scale, uint64_t seed, uint64_t offset) {
  const int64_t counters = ceil_div(n, 4);
  for (int64_t c = blockIdx.x * int64_t{kBlock} + threadIdx.x; c < counters;
       c += gridDim.x * int64_t{kBlock}) {
    const philox::Words r = philox::philox4x32_10(offset + static_cast<uint64_t>(c), seed);
    for (int w = 0; w < 4; ++w) {
      const int64_t i = 4 * c + w;
      if (i >= n) break;
      out[i] = philox::to_uniform(r.w[w]) >= p ? in[i] * scale : T(0);
    }
  }
}

}  // namespace

template <typename T>
void launch_unary(UnaryOp op, const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  elementwise::with_op(op, [&](auto k) {
    launch(unary_kernel<decltype(k)::value, T>, blocks_for(n, kTile), kBlock, 0, stream, x, y, n);
  });
}

template <typename T>
void launch_unary_backward(UnaryOp op, const T* x, const T* dy, T* dx, int64_t n,
                           cudaStream_t stream) {
  if (n <= 0) return;
  elementwise::with_op(op, [&](auto k) {
    launch(unary_backward_kernel<decltype(k)::value, T>, blocks_for(n, kTile), kBlock, 0, stream,
           x, dy, dx, n);
  });
}

template <typename T>
void launch_binary(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout<3>& layout,
                   cudaStream_t stream) {
  const int64_t n = layout.numel();
  if (n <= 0) return;
  elementwise::with_op(op, [&](auto k) {
    constexpr BinaryOp kOp = decltype(k)::value;
    if (layout.linear())
      launch(binary_kernel<kOp, T>, blocks_for(n, kTile), kBlock, 0, stream, a, b, out, n);
    else
      launch(binary_strided_kernel<kOp, T>, blocks_for(n, kTile), kBlock, 0, stream, a, b, out,
             layout, n);
  });
}

template <typename T>
void launch_scalar(ScalarOp op, const T* x, T s, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  elementwise::with_op(op, [&](auto k) {
    launch(scalar_kernel<decltype(k)::value, T>, blocks_for(n, kTile), kBlock, 0, stream, x, s,
           y, n);
  });
}

template <typename T>
void launch_clamp(const T* x, T lo, T hi, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  launch(clamp_kernel<T>, blocks_for(n, kTile), kBlock, 0, stream, x, lo, hi, y, n);
}

template <typename T>
void launch_clamp_backward(const T* x, T lo, T hi, const T* dy, T* dx, int64_t n,
                           cudaStream_t stream) {
  if (n <= 0) return;
  launch(clamp_backward_kernel<T>, blocks_for(n, kTile), kBlock, 0, stream, x, lo, hi, dy, dx, n);
}

template <typename T>
void launch_axpy(T* y, T alpha, const T* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  launch(axpy_kernel<T>, blocks_for(n, kTile), kBlock, 0, stream, y, alpha, x, n);
}

template <typename T>
void launch_dropout(const T* in, T* out, int64_t n, float p, T scale, uint64_t seed,
                    uint64_t offset, cudaStream_t stream) {
  if (n <= 0) return;
  launch(dropout_kernel<T>, blocks_for(ceil_div(n, 4), kBlock), kBlock, 0, stream, in, out, n, p,
         scale, seed, offset);
}

#define S2DM_INSTANTIATE_ELEMENTWISE(T)                                                         \
  template void launch_unary<T>(UnaryOp, const T*, T*, int64_t, cudaStream_t);              \
  template void launch_unary_backward<T>(UnaryOp, const T*, const T*, T*, int64_t,           \
                                         cudaStream_t);                                        \
  template void launch_binary<T>(BinaryOp, const T*, const T*, T*, const StridedLayout<3>&,  \
                                 cudaStream_t);                                                \
  template void launch_scalar<T>(ScalarOp, const T*, T, T*, int64_t, cudaStream_t);          \
  template void launch_clamp<T>(const T*, T, T, T*, int64_t, cudaStream_t);                    \
  template void launch_clamp_backward<T>(const T*, T, T, const T*, T*, int64_t, cudaStream_t); \
  template void launch_axpy<T>(T*, T, const T*, int64_t, cudaStream_t);                        \
  template void launch_dropout<T>(const T*, T*, int64_t, float, T, uint64_t, uint64_t,         \
                                  cudaStream_t);
S2DM_INSTANTIATE_ELEMENTWISE(float)
S2DM_INSTANTIATE_ELEMENTWISE(double)
#undef S2DM_INSTANTIATE_ELEMENTWISE

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
