// Fused S²-DM loss: per-sample squared residuals, the batch loss and ∂loss/∂out in one pass over
// out, eps1 and eps2.
//
// Launch shape: one block per sample, so a sample's two sums never leave its block (no global
// partials, no atomics). The block's threads stride the sample's P elements with coalesced reads;
// each thread reads out, eps1 and eps2 once, accumulates (eps1 − out)² and (eps2 − c·out)², and,
// since dout = −(2s/B)·(w0·(eps1 − out) + wskip·c·(eps2 − c·out)) needs no reduction, writes dout
// in the same sweep. Warps reduce with shuffles; thread 0 adds the warp partials in warp order
// and writes l0 and lskip. blockDim is the power of two >= P clamped to [32, 512]: a batch of 128
// gives about one block per SM, so the block must be wide enough to keep loads in flight.
//
// A second kernel, a single block, reduces Σ w0·l0 and Σ wskip·lskip over the batch the same way
// and writes loss; a batch is small, and a separate launch avoids a grid-wide completion count.
//
// Accumulation is in T, as PyTorch does on the GPU. Block sizes depend only on the shape and every
// reduction runs in a fixed order, so results are identical run to run, which bit-exact training
// resume relies on.
#include "kernels/loss.cuh"

#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr unsigned kSampleThreads = 512;
constexpr unsigned kTotalThreads = 256;
constexpr unsigned kMaxWarps = kSampleThreads / 32;

// Sums a and b over the block (blockDim.x a multiple of 32, at most kSampleThreads); thread 0
// receives the totals. Called once per kernel: the shared slots are not protected against a
// second call.
template <typename T>
__device__ void block_sums(T& a, T& b) {
  __shared__ T s_a[kMaxWarps], s_b[kMaxWarps];
  warp_sum2(a, b);
  const unsigned warp = threadIdx.x / 32, warps = blockDim.x / 32;
  if (threadIdx.x % 32 == 0) {
    s_a[warp] = a;
    s_b[warp] = b;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (unsigned w = 1; w < warps; ++w) {
      a += s_a[w];
      b += s_b[w];
    }
  }
}

// k = 2·inv_reduce/B.
template <typename T>
__global__ void __launch_bounds__(kSampleThreads)
    skip_loss_sample_kernel(const T* out, const T* eps1, const T* eps2, const T* c, const T* w0,
                            const T* wskip, int64_t per_sample, T inv_reduce, T k, T* l0, T* lskip,
                            T* dout) {
  const int64_t b = blockIdx.x, base = b * per_sample;
  const T cb = c[b], g0 = k * w0[b], gs = k * wskip[b] * cb;
  T s0 = T(0), ss = T(0);
  for (int64_t j = base + threadIdx.x; j < base + per_sample; j += blockDim.x) {
    const T o = out[j];
    const T d0 = eps1[j] - o, ds = eps2[j] - cb * o;
    s0 += d0 * d0;
    ss += ds * ds;
    if (dout != nullptr) dout[j] = -(g0 * d0 + gs * ds);
  }
  block_sums(s0, ss);
  if (threadIdx.x == 0) {
    l0[b] = inv_reduce * s0;
    lskip[b] = inv_reduce * ss;
  }
}

template <typename T>
__global__ void __launch_bounds__(kTotalThreads)
    skip_loss_total_kernel(const T* l0, const T* lskip, const T* w0, const T* wskip, int64_t batch,
                           T* loss) {
  T a = T(0), s = T(0);
  for (int64_t b = threadIdx.x; b < batch; b += blockDim.x) {
    a += w0[b] * l0[b];
    s += wskip[b] * lskip[b];
  }
  block_sums(a, s);
  if (threadIdx.x == 0) loss[0] = (a + s) / static_cast<T>(batch);
}

// The power of two >= n, clamped to [32, max_threads].
unsigned block_for(int64_t n, unsigned max_threads) {
  unsigned threads = 32;
  while (threads < max_threads && static_cast<int64_t>(threads) < n) threads *= 2;
  return threads;
}

}  // namespace

template <typename T>
void launch_skip_loss(const T* out, const T* eps1, const T* eps2, const T* c, const T* w0,
                      const T* wskip, int64_t batch, int64_t per_sample, double inv_reduce, T* l0,
                      T* lskip, T* loss, T* dout, cudaStream_t stream) {
  if (batch <= 0) return;
  const double k = 2.0 * inv_reduce / static_cast<double>(batch);
  launch(skip_loss_sample_kernel<T>, dim3(static_cast<unsigned>(batch)),
         block_for(per_sample, kSampleThreads), 0, stream, out, eps1, eps2, c, w0, wskip,
         per_sample, static_cast<T>(inv_reduce), static_cast<T>(k), l0, lskip, dout);
  launch(skip_loss_total_kernel<T>, 1, block_for(batch, kTotalThreads), 0, stream, l0, lskip, w0,
         wskip, batch, loss);
}

#define S2DM_INSTANTIATE_SKIP_LOSS(T)                                                           \
  template void launch_skip_loss<T>(const T*, const T*, const T*, const T*, const T*, const T*, \
                                    int64_t, int64_t, double, T*, T*, T*, T*, cudaStream_t);
S2DM_INSTANTIATE_SKIP_LOSS(float)
S2DM_INSTANTIATE_SKIP_LOSS(double)
#undef S2DM_INSTANTIATE_SKIP_LOSS

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
