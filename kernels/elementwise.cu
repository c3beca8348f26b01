// Elementwise kernels: unary and its derivative, binary (broadcast and strided operands), scalar,
// axpy and dropout.
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

template <UnaryKind Op, typename T>
__device__ __forceinline__ T unary_value(T x) {
  if constexpr (Op == UnaryKind::Neg) return -x;
  else if constexpr (Op == UnaryKind::Exp) return exp_of(x);
  else if constexpr (Op == UnaryKind::Log) return log_of(x);
  else if constexpr (Op == UnaryKind::Sqrt) return sqrt_of(x);
  else if constexpr (Op == UnaryKind::Sigmoid) return sigmoid_of(x);
  else if constexpr (Op == UnaryKind::Silu) return x * sigmoid_of(x);
  else return x * x;
}

// d f(x) / dx, written as the CPU backend writes it.
template <UnaryKind Op, typename T>
__device__ __forceinline__ T unary_derivative(T x) {
  if constexpr (Op == UnaryKind::Neg) {
    return T(-1);
  } else if constexpr (Op == UnaryKind::Exp) {
    return exp_of(x);
  } else if constexpr (Op == UnaryKind::Log) {
    return T(1) / x;
  } else if constexpr (Op == UnaryKind::Sqrt) {
    return T(0.5) / sqrt_of(x);
  } else if constexpr (Op == UnaryKind::Sigmoid) {
    const T s = sigmoid_of(x);
    return s * (T(1) - s);
  } else if constexpr (Op == UnaryKind::Silu) {
    const T s = sigmoid_of(x);
    return s * (T(1) + x * (T(1) - s));
  } else {
    return T(2) * x;
  }
}

template <BinaryKind Op, typename T>
__device__ __forceinline__ T binary_value(T a, T b) {
  if constexpr (Op == BinaryKind::Add) return a + b;
  else if constexpr (Op == BinaryKind::Sub) return a - b;
  else if constexpr (Op == BinaryKind::Mul) return a * b;
  else return a / b;
}

template <ScalarKind Op, typename T>
__device__ __forceinline__ T scalar_value(T x, T s) {
  if constexpr (Op == ScalarKind::Add) return x + s;
  else if constexpr (Op == ScalarKind::Mul) return x * s;
  else if constexpr (Op == ScalarKind::Pow) return pow_of(x, s);
  else if constexpr (Op == ScalarKind::RSub) return s - x;
  else return s / x;
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

template <UnaryKind Op, typename T>
__global__ void __launch_bounds__(kBlock) unary_kernel(const T* x, T* y, int64_t n) {
  map_dense(n, [](T v) { return unary_value<Op>(v); }, y, x);
}

template <UnaryKind Op, typename T>
__global__ void __launch_bounds__(kBlock)
    unary_backward_kernel(const T* x, const T* dy, T* dx, int64_t n) {
  map_dense(n, [](T v, T g) { return g * unary_derivative<Op>(v); }, dx, x, dy);
}

template <BinaryKind Op, typename T>
__global__ void __launch_bounds__(kBlock)
    binary_kernel(const T* a, const T* b, T* out, int64_t n) {
  map_dense(n, [](T u, T v) { return binary_value<Op>(u, v); }, out, a, b);
}

template <BinaryKind Op, typename T>
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

template <ScalarKind Op, typename T>
__global__ void __launch_bounds__(kBlock) scalar_kernel(const T* x, T s, T* y, int64_t n) {
  map_dense(n, [s](T v) { return scalar_value<Op>(v, s); }, y, x);
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

// Calls f(std::integral_constant<Kind, op>) for the runtime op, so launchers name one kernel
// template for all ops.
template <typename F>
void with_unary(UnaryKind op, F f) {
  using K = UnaryKind;
  switch (op) {
    case K::Neg: f(std::integral_constant<K, K::Neg>{}); return;
    case K::Exp: f(std::integral_constant<K, K::Exp>{}); return;
    case K::Log: f(std::integral_constant<K, K::Log>{}); return;
    case K::Sqrt: f(std::integral_constant<K, K::Sqrt>{}); return;
    case K::Sigmoid: f(std::integral_constant<K, K::Sigmoid>{}); return;
    case K::Silu: f(std::integral_constant<K, K::Silu>{}); return;
    case K::Square: f(std::integral_constant<K, K::Square>{}); return;
  }
}

template <typename F>
void with_binary(BinaryKind op, F f) {
  using K = BinaryKind;
  switch (op) {
    case K::Add: f(std::integral_constant<K, K::Add>{}); return;
    case K::Sub: f(std::integral_constant<K, K::Sub>{}); return;
    case K::Mul: f(std::integral_constant<K, K::Mul>{}); return;
    case K::Div: f(std::integral_constant<K, K::Div>{}); return;
  }
}

template <typename F>
void with_scalar(ScalarKind op, F f) {
  using K = ScalarKind;
  switch (op) {
    case K::Add: f(std::integral_constant<K, K::Add>{}); return;
    case K::Mul: f(std::integral_constant<K, K::Mul>{}); return;
    case K::Pow: f(std::integral_constant<K, K::Pow>{}); return;
    case K::RSub: f(std::integral_constant<K, K::RSub>{}); return;
    case K::RDiv: f(std::integral_constant<K, K::RDiv>{}); return;
  }
}

}  // namespace

template <typename T>
void launch_unary(UnaryKind op, const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  with_unary(op, [&](auto k) {
    launch(unary_kernel<decltype(k)::value, T>, blocks_for(n, kTile), kBlock, 0, stream, x, y, n);
  });
}

template <typename T>
void launch_unary_backward(UnaryKind op, const T* x, const T* dy, T* dx, int64_t n,
                           cudaStream_t stream) {
  if (n <= 0) return;
  with_unary(op, [&](auto k) {
    launch(unary_backward_kernel<decltype(k)::value, T>, blocks_for(n, kTile), kBlock, 0, stream,
           x, dy, dx, n);
  });
}

template <typename T>
void launch_binary(BinaryKind op, const T* a, const T* b, T* out, const StridedLayout<3>& layout,
                   cudaStream_t stream) {
  const int64_t n = layout.numel();
  if (n <= 0) return;
  with_binary(op, [&](auto k) {
    constexpr BinaryKind kOp = decltype(k)::value;
    if (layout.linear())
      launch(binary_kernel<kOp, T>, blocks_for(n, kTile), kBlock, 0, stream, a, b, out, n);
    else
      launch(binary_strided_kernel<kOp, T>, blocks_for(n, kTile), kBlock, 0, stream, a, b, out,
             layout, n);
  });
}

template <typename T>
void launch_scalar(ScalarKind op, const T* x, T s, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  with_scalar(op, [&](auto k) {
    launch(scalar_kernel<decltype(k)::value, T>, blocks_for(n, kTile), kBlock, 0, stream, x, s,
           y, n);
  });
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
  template void launch_unary<T>(UnaryKind, const T*, T*, int64_t, cudaStream_t);              \
  template void launch_unary_backward<T>(UnaryKind, const T*, const T*, T*, int64_t,           \
                                         cudaStream_t);                                        \
  template void launch_binary<T>(BinaryKind, const T*, const T*, T*, const StridedLayout<3>&,  \
                                 cudaStream_t);                                                \
  template void launch_scalar<T>(ScalarKind, const T*, T, T*, int64_t, cudaStream_t);          \
  template void launch_axpy<T>(T*, T, const T*, int64_t, cudaStream_t);                        \
  template void launch_dropout<T>(const T*, T*, int64_t, float, T, uint64_t, uint64_t,         \
                                  cudaStream_t);
S2DM_INSTANTIATE_ELEMENTWISE(float)
S2DM_INSTANTIATE_ELEMENTWISE(double)
#undef S2DM_INSTANTIATE_ELEMENTWISE

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
