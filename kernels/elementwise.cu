// Elementwise kernels: unary and its derivative, clamp and its derivative, binary (broadcast and
// strided operands), scalar and axpy. The per-element math is kernels/elementwise_math.h.
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
// Math uses the accurate functions (the kernels are bound by memory, fast intrinsics would buy
// nothing), so float sigmoid/SiLU differ from the CPU backend's polynomial exponential in the
// last bits; the basic arithmetic ops are exact and match it bit for bit.
#include "kernels/elementwise.cuh"

#include <type_traits>

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;
constexpr int kUnroll = 4;
constexpr int64_t kTile = int64_t{kBlock} * kUnroll;

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

S2DM_INSTANTIATE_ELEMENTWISE(float)
S2DM_INSTANTIATE_ELEMENTWISE(double)
#undef S2DM_INSTANTIATE_ELEMENTWISE

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
