// Adam, parameter EMA and fused Adam + EMA: elementwise over flat buffers and bound by memory
// (Adam reads 4 and writes 3 values per element, EMA reads 2 and writes 1; fused, one launch
// reads 5 and writes 4).
//
// Launch shape: 256-thread blocks in a grid-stride loop over packs of V elements, V = 16 bytes /
// sizeof(T), so each buffer moves as one aligned 16-byte access per pack. Flat parameter buffers
// start at allocator-aligned addresses; views at an offset still vectorise when every buffer has
// the same misalignment: the `head` elements before the first 16-byte boundary and the tail after
// the last whole pack go one element per thread. Buffers misaligned differently use V = 1.
// The per-element arithmetic is kernels/adam_math.h, the CPU backend's, in T; there are no
// reductions, so the launch shape never changes a result.
#include "kernels/optim.cuh"

#include <algorithm>
#include <initializer_list>

#include "kernels/device_common.cuh"
#include "kernels/pack.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kBlock = 256;

// Each update applies itself to the V elements from index i (aligned to V when V > 1).
template <typename T>
struct AdamUpdate {
  T *p, *m, *v;
  const T* g;
  adam::Coefficients<T> c;

  // The clip factor from the device-side norm; false: skip the step (kernels/adam_math.h).
  __device__ bool prepare() { return adam::resolve_clip(c); }

  template <int V>
  __device__ void apply(int64_t i) const {
    Pack<T, V> pp = load<V>(p, i), pm = load<V>(m, i), pv = load<V>(v, i);
    const Pack<T, V> pg = load<V>(g, i);
    for (int j = 0; j < V; ++j) adam::update(c, pp.v[j], pg.v[j], pm.v[j], pv.v[j]);
    store<V>(p, i, pp);
    store<V>(m, i, pm);
    store<V>(v, i, pv);
  }
};

template <typename T>
struct EmaUpdate {
  T* e;
  const T* p;
  T decay, one_minus_decay;

  __device__ bool prepare() { return true; }

  template <int V>
  __device__ void apply(int64_t i) const {
    Pack<T, V> pe = load<V>(e, i);
    const Pack<T, V> pp = load<V>(p, i);
    for (int j = 0; j < V; ++j) pe.v[j] = adam::ema(pe.v[j], pp.v[j], decay, one_minus_decay);
    store<V>(e, i, pe);
  }
};

template <typename T>
struct AdamEmaUpdate {
  AdamUpdate<T> step;
  T* e;
  T decay, one_minus_decay;

  __device__ bool prepare() { return step.prepare(); }

  template <int V>
  __device__ void apply(int64_t i) const {
    Pack<T, V> pp = load<V>(step.p, i), pm = load<V>(step.m, i), pv = load<V>(step.v, i);
    Pack<T, V> pe = load<V>(e, i);
    const Pack<T, V> pg = load<V>(step.g, i);
    for (int j = 0; j < V; ++j) {
      adam::update(step.c, pp.v[j], pg.v[j], pm.v[j], pv.v[j]);
      pe.v[j] = adam::ema(pe.v[j], pp.v[j], decay, one_minus_decay);
    }
    store<V>(step.p, i, pp);
    store<V>(step.m, i, pm);
    store<V>(step.v, i, pv);
    store<V>(e, i, pe);
  }
};

// Packs of V over [head, head + packs·V); then the head and the tail (fewer than 2V elements, so
// the first block covers them) one element per thread.
template <int V, typename Update>
__global__ void __launch_bounds__(kBlock) sweep_kernel(Update u, int64_t n, int64_t head) {
  if (!u.prepare()) return;
  const int64_t first = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t packs = (n - head) / V, body_end = head + packs * V;
  for (int64_t k = first; k < packs; k += stride) u.template apply<V>(head + k * V);
  if (V > 1 && first < head + (n - body_end))
    u.template apply<1>(first < head ? first : body_end + (first - head));
}

uintptr_t misalignment(const void* p) { return reinterpret_cast<uintptr_t>(p) % kPackBytes; }

template <typename T, typename Update>
void sweep(const Update& u, int64_t n, std::initializer_list<const void*> buffers,
           cudaStream_t stream) {
  if (n <= 0) return;
  constexpr int V = static_cast<int>(kPackBytes / sizeof(T));
  const uintptr_t mis = misalignment(*buffers.begin());
  const bool together = std::all_of(buffers.begin(), buffers.end(),
                                    [&](const void* b) { return misalignment(b) == mis; });
  if (together) {
    const int64_t head =
        std::min<int64_t>(n, static_cast<int64_t>((kPackBytes - mis) % kPackBytes / sizeof(T)));
    launch(sweep_kernel<V, Update>, blocks_for(ceil_div(n, V), kBlock), kBlock, 0, stream, u, n,
           head);
  } else {
    launch(sweep_kernel<1, Update>, blocks_for(n, kBlock), kBlock, 0, stream, u, n, int64_t{0});
  }
}

}  // namespace

template <typename T>
void launch_adam_step(T* param, const T* grad, T* m, T* v, int64_t n,
                      const adam::Coefficients<T>& c, cudaStream_t stream) {
  sweep<T>(AdamUpdate<T>{param, m, v, grad, c}, n, {param, grad, m, v}, stream);
}

template <typename T>
void launch_ema_update(T* ema, const T* param, int64_t n, T decay, T one_minus_decay,
                       cudaStream_t stream) {
  sweep<T>(EmaUpdate<T>{ema, param, decay, one_minus_decay}, n, {ema, param}, stream);
}

template <typename T>
void launch_adam_ema_step(T* param, const T* grad, T* m, T* v, T* ema, int64_t n,
                          const adam::Coefficients<T>& c, T decay, T one_minus_decay,
                          cudaStream_t stream) {
  sweep<T>(AdamEmaUpdate<T>{{param, m, v, grad, c}, ema, decay, one_minus_decay}, n,
           {param, grad, m, v, ema}, stream);
}

#define S2DM_INSTANTIATE_ADAM(T)                                                                 \
  template void launch_adam_step<T>(T*, const T*, T*, T*, int64_t, const adam::Coefficients<T>&, \
                                    cudaStream_t);                                               \
  template void launch_ema_update<T>(T*, const T*, int64_t, T, T, cudaStream_t);                 \
  template void launch_adam_ema_step<T>(T*, const T*, T*, T*, T*, int64_t,                       \
                                        const adam::Coefficients<T>&, T, T, cudaStream_t);
S2DM_INSTANTIATE_ADAM(float)
S2DM_INSTANTIATE_ADAM(double)
#undef S2DM_INSTANTIATE_ADAM

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
