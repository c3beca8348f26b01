// GroupNorm(+SiLU) kernels. x is [N, C, S]; the D = C/G channels of group g in sample n are one
// contiguous run of D·S elements.
//
// Launch shape: one block per (n, g), so a group's statistics never leave the block (no second
// pass over global partials, no atomics). The block is 2-D: blockDim.x lanes, a multiple of 32
// so that every warp lies in one channel, stride the S positions of a channel; blockDim.y rows
// stride the D channels. Reads are coalesced along S, and a thread's channel (hence its γ, β,
// scale and shift) stays fixed for a whole row sweep instead of being derived per element.
// blockDim.x is the power of two >= S clamped to [32, 256]; blockDim.y fills the block up to 256
// threads without going past D.
//
// Forward: every thread keeps Welford moments of its elements; warps merge them with shuffles,
// thread 0 merges the warp results in a fixed order and stores mean/rstd; then each thread applies
// the per-(n, c) scale a = rstd·γ and shift b = β − a·μ (and SiLU) in one elementwise pass.
//
// Backward: with dY' = dY·silu'(z) when fused (z recomputed from the saved statistics), each
// channel row reduces Σ dY'·(x − μ) and Σ dY'. Centring on μ avoids the cancellation of
// Σ dY'·x − μ·Σ dY' in float. With K = D·S, the γ-weighted group totals give
//   dx = a·dY' + c2·(x − μ) + c3,
//   c2 = −rstd³·Σ_c γ_c·Σ dY'(x − μ) / K,   c3 = −rstd·Σ_c γ_c·Σ dY' / K,
// and the per-(n, c) sums, kept in the workspace, give dγ_c = Σ_n rstd·Σ dY'(x − μ) and
// dβ_c = Σ_n Σ dY' in a second, per-channel kernel.
//
// channel_add (the UNet's per-channel time embedding) is added to x as it is read, in every pass,
// so the sum x + temb never makes a round trip through memory; dL/d(channel_add) is the spatial
// sum of dx, which the caller reduces.
//
// Register-cached path (the UNet's shapes): when a channel row is whole 16-byte packs (S a
// multiple of 16/sizeof(T), buffers aligned) and fits one row of at most 512 lanes, and the
// group needs at most kMaxRows rows per thread, each thread keeps its packs in registers. Global
// memory is then read once (x; x and dY backward) and written once, in 128-bit accesses, instead of
// once per pass; the statistics are exact two-pass ones over the registers (mean, then squared
// deviations). Other shapes take the general kernels, which re-read the group in each pass.
//
// Accumulation is in T, as PyTorch does on the GPU; every reduction runs in a fixed order, so
// results are identical run to run, which bit-exact training resume relies on.
#include "kernels/norm.cuh"

#include <initializer_list>

#include "kernels/device_common.cuh"
#include "kernels/pack.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr unsigned kMaxThreads = 256;
constexpr unsigned kMaxWarps = kMaxThreads / 32;
constexpr unsigned kAffineBlock = 256;

__device__ __forceinline__ float rsqrt_of(float v) { return rsqrtf(v); }
__device__ __forceinline__ double rsqrt_of(double v) { return rsqrt(v); }

template <typename T>
__device__ __forceinline__ T sigmoid_of(T z) {
  return T(1) / (T(1) + exp_of(-z));
}

// dY·silu'(z) with silu'(z) = σ(z)·(1 + z·(1 − σ(z))).
template <typename T>
__device__ __forceinline__ T silu_grad(T dy, T z) {
  const T s = sigmoid_of(z);
  return dy * s * (T(1) + z * (T(1) - s));
}

// channel_add[n, c], or 0 without one.
template <typename T>
__device__ __forceinline__ T channel_of(const T* channel_add, const GroupNormShape& shape,
                                        int64_t n, int64_t c) {
  return channel_add != nullptr ? channel_add[n * shape.c + c] : T(0);
}

__device__ __forceinline__ unsigned linear_tid() { return threadIdx.x + blockDim.x * threadIdx.y; }

template <typename T>
struct Moments {
  T count, mean, m2;  // m2: sum of squared deviations from mean
};

template <typename T>
__device__ __forceinline__ void welford_push(Moments<T>& m, T v) {
  m.count += T(1);
  const T d = v - m.mean;
  m.mean += d / m.count;
  m.m2 += d * (v - m.mean);
}

// Chan et al.'s merge of two partial moments.
template <typename T>
__device__ __forceinline__ Moments<T> welford_merge(const Moments<T>& a, const Moments<T>& b) {
  const T n = a.count + b.count;
  if (n == T(0)) return a;
  const T d = b.mean - a.mean, f = b.count / n;
  return Moments<T>{n, a.mean + d * f, a.m2 + b.m2 + d * d * a.count * f};
}

// The block's merged moments, returned to every thread. Called once per kernel: the shared
// slots are not protected against a second call.
template <typename T>
__device__ Moments<T> block_moments(Moments<T> m) {
  __shared__ T s_count[kMaxWarps], s_mean[kMaxWarps], s_m2[kMaxWarps];
  // Shift down, not butterfly: the merge is not symmetric in rounding, and only lane 0's result
  // is used.
  for (int offset = 16; offset > 0; offset /= 2) {
    const Moments<T> other{__shfl_down_sync(kFullMask, m.count, offset),
                           __shfl_down_sync(kFullMask, m.mean, offset),
                           __shfl_down_sync(kFullMask, m.m2, offset)};
    m = welford_merge(m, other);
  }
  const unsigned tid = linear_tid(), warp = tid / 32, warps = blockDim.x * blockDim.y / 32;
  if (tid % 32 == 0) {
    s_count[warp] = m.count;
    s_mean[warp] = m.mean;
    s_m2[warp] = m.m2;
  }
  __syncthreads();
  if (tid == 0) {
    for (unsigned w = 1; w < warps; ++w)
      m = welford_merge(m, Moments<T>{s_count[w], s_mean[w], s_m2[w]});
    s_count[0] = m.count;
    s_mean[0] = m.mean;
    s_m2[0] = m.m2;
  }
  __syncthreads();
  return Moments<T>{s_count[0], s_mean[0], s_m2[0]};
}

// Sums (a, b) over the blockDim.x lanes of each channel row; the row's lane 0 receives the
// totals. Every thread of the block must call it (it may hold a barrier).
template <typename T>
__device__ void row_sums(T& a, T& b) {
  __shared__ T s_a[kMaxWarps], s_b[kMaxWarps];
  warp_sum2(a, b);
  const unsigned warps_per_row = blockDim.x / 32;
  if (warps_per_row == 1) return;  // the same for the whole block
  const unsigned tid = linear_tid(), warp = tid / 32;
  if (tid % 32 == 0) {
    s_a[warp] = a;
    s_b[warp] = b;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (unsigned w = 1; w < warps_per_row; ++w) {
      a += s_a[warp + w];
      b += s_b[warp + w];
    }
  }
  __syncthreads();  // the next call overwrites s_a and s_b
}

// v summed over the block (whose size is a multiple of 32), returned to every thread in a fixed
// order. slots: one entry per warp, in shared memory, free again on return.
template <typename T>
__device__ T block_total(T v, T* slots) {
  v = warp_sum(v);
  const unsigned tid = linear_tid(), warps = blockDim.x * blockDim.y / 32;
  if (tid % 32 == 0) slots[tid / 32] = v;
  __syncthreads();
  T total = slots[0];
  for (unsigned w = 1; w < warps; ++w) total += slots[w];
  __syncthreads();
  return total;
}

// Lane 0 of channel row c: adds the row's sums, γ-weighted, to the group totals and keeps them
// (when sums is not null) for the dγ, dβ kernel.
template <typename T>
__device__ __forceinline__ void keep_channel_sums(const GroupNormShape& shape, int64_t n,
                                                  int64_t c, T gm, T sum_dxc, T sum_d, T* sums,
                                                  T& group_dxc, T& group_d) {
  group_dxc += gm * sum_dxc;
  group_d += gm * sum_d;
  if (sums != nullptr) {
    sums[n * shape.c + c] = sum_dxc;
    sums[shape.n * shape.c + n * shape.c + c] = sum_d;
  }
}

// dx = a·dY' + c2·(x − μ) + c3 from the group's γ-weighted totals over K = D·S elements.
template <typename T>
struct DxCoefficients {
  T c2, c3;
};
template <typename T>
__device__ __forceinline__ DxCoefficients<T> dx_coefficients(T r, T group_dxc, T group_d,
                                                             int64_t k) {
  const T inv_k = T(1) / static_cast<T>(k);
  return {-r * r * r * group_dxc * inv_k, -r * group_d * inv_k};
}

template <typename T>
__global__ void __launch_bounds__(kMaxThreads)
    group_norm_forward_kernel(const T* x, const T* channel_add, const T* gamma, const T* beta,
                              GroupNormShape shape, T eps, bool silu, T* y, T* mean, T* rstd) {
  const int64_t ng = blockIdx.x, d = shape.c / shape.groups, s = shape.spatial;
  const int64_t n = ng / shape.groups, g = ng % shape.groups, base = ng * d * s;
  const T* xg = x + base;
  Moments<T> m{T(0), T(0), T(0)};
  for (int64_t cd = threadIdx.y; cd < d; cd += blockDim.y) {
    const T add = channel_of(channel_add, shape, n, g * d + cd);
    for (int64_t j = threadIdx.x; j < s; j += blockDim.x) welford_push(m, xg[cd * s + j] + add);
  }
  m = block_moments(m);
  const T mu = m.mean;
  const T r = rsqrt_of((m.count > T(0) ? m.m2 / m.count : T(0)) + eps);
  if (linear_tid() == 0) {
    mean[ng] = mu;
    rstd[ng] = r;
  }
  T* yg = y + base;
  for (int64_t cd = threadIdx.y; cd < d; cd += blockDim.y) {
    const int64_t c = g * d + cd;
    const T a = r * (gamma != nullptr ? gamma[c] : T(1));
    const T b = (beta != nullptr ? beta[c] : T(0)) - a * mu;
    const T add = channel_of(channel_add, shape, n, c);
    for (int64_t j = threadIdx.x; j < s; j += blockDim.x) {
      const T z = (xg[cd * s + j] + add) * a + b;
      yg[cd * s + j] = silu ? z * sigmoid_of(z) : z;
    }
  }
}

// sums (when non-null): [2, N, C], Σ dY'·(x − μ) then Σ dY' per (n, c).
template <typename T>
__global__ void __launch_bounds__(kMaxThreads)
    group_norm_backward_kernel(const T* x, const T* channel_add, const T* gamma, const T* beta,
                               const T* mean, const T* rstd, const T* dy, GroupNormShape shape,
                               bool silu, T* dx, T* sums) {
  const int64_t ng = blockIdx.x, d = shape.c / shape.groups, s = shape.spatial;
  const int64_t n = ng / shape.groups, g = ng % shape.groups, base = ng * d * s;
  const T* xg = x + base;
  const T* dyg = dy + base;
  const T mu = mean[ng], r = rstd[ng];
  T group_dxc = T(0), group_d = T(0);  // γ-weighted totals, gathered by each row's lane 0
  // Every row runs the same number of sweeps (some past D) so all threads meet row_sums' barrier.
  for (int64_t row0 = 0; row0 < d; row0 += blockDim.y) {
    const int64_t cd = row0 + threadIdx.y, c = g * d + cd;
    const bool valid = cd < d;
    const T gm = valid && gamma != nullptr ? gamma[c] : T(1);
    T sum_dxc = T(0), sum_d = T(0);
    if (valid) {
      const T a = r * gm, b = (beta != nullptr ? beta[c] : T(0)) - a * mu;
      const T add = channel_of(channel_add, shape, n, c);
      for (int64_t j = threadIdx.x; j < s; j += blockDim.x) {
        const T xv = xg[cd * s + j] + add, dv = dyg[cd * s + j];
        const T dp = silu ? silu_grad(dv, xv * a + b) : dv;
        sum_dxc += dp * (xv - mu);
        sum_d += dp;
      }
    }
    row_sums(sum_dxc, sum_d);
    if (threadIdx.x == 0 && valid)
      keep_channel_sums(shape, n, c, gm, sum_dxc, sum_d, sums, group_dxc, group_d);
  }
  if (dx == nullptr) return;  // the same for the whole block
  __shared__ T slots[kMaxWarps];
  const DxCoefficients<T> coef = dx_coefficients(r, block_total(group_dxc, slots),
                                                 block_total(group_d, slots), d * s);
  T* dxg = dx + base;
  for (int64_t cd = threadIdx.y; cd < d; cd += blockDim.y) {
    const int64_t c = g * d + cd;
    const T a = r * (gamma != nullptr ? gamma[c] : T(1));
    const T b = (beta != nullptr ? beta[c] : T(0)) - a * mu;
    const T add = channel_of(channel_add, shape, n, c);
    for (int64_t j = threadIdx.x; j < s; j += blockDim.x) {
      const T xv = xg[cd * s + j] + add, dv = dyg[cd * s + j];
      const T dp = silu ? silu_grad(dv, xv * a + b) : dv;
      dxg[cd * s + j] = a * dp + coef.c2 * (xv - mu) + coef.c3;
    }
  }
}

// One thread per channel: dγ and dβ sum the per-(n, c) sums over n (reads coalesced along c).
template <typename T>
__global__ void group_norm_affine_grad_kernel(const T* rstd, const T* sums, GroupNormShape shape,
                                              T* dgamma, T* dbeta) {
  const int64_t d = shape.c / shape.groups, nc = shape.n * shape.c;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < shape.c;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T dg = T(0), db = T(0);
    for (int64_t n = 0; n < shape.n; ++n) {
      dg += rstd[n * shape.groups + c / d] * sums[n * shape.c + c];
      db += sums[nc + n * shape.c + c];
    }
    if (dgamma != nullptr) dgamma[c] = dg;
    if (dbeta != nullptr) dbeta[c] = db;
  }
}

// ---- register-cached path ----

constexpr unsigned kCachedThreads = 512;
constexpr unsigned kCachedWarps = kCachedThreads / 32;
constexpr int kMaxRows = 8;

// (a, b) summed over each channel row's blockDim.x lanes (a power of two); lane 0 of the row holds
// the totals. Rows narrower than a warp are aligned segments of it, reduced with xor shuffles
// inside the segment. Every thread of the block calls it.
template <typename T>
__device__ void cached_row_totals(T& a, T& b, T* sa, T* sb) {
  warp_sum2(a, b, blockDim.x < 32 ? static_cast<int>(blockDim.x) : 32);
  if (blockDim.x <= 32) return;  // the same for the whole block
  const unsigned tid = linear_tid(), warp = tid / 32;
  if (tid % 32 == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  if (threadIdx.x == 0)
    for (unsigned w = 1; w < blockDim.x / 32; ++w) {
      a += sa[warp + w];
      b += sb[warp + w];
    }
  __syncthreads();
}

// Thread (x, y) holds pack x of channel rows y, y + blockDim.y, ... (kRows of them).
template <typename T, int kRows>
__global__ void __launch_bounds__(kCachedThreads)
    group_norm_forward_cached_kernel(const T* x, const T* channel_add, const T* gamma,
                                     const T* beta, GroupNormShape shape, T eps, bool silu, T* y,
                                     T* mean, T* rstd) {
  constexpr int P = kPackOf<T>;
  __shared__ T slots[kCachedWarps];
  const int64_t ng = blockIdx.x, d = shape.c / shape.groups, s = shape.spatial;
  const int64_t n = ng / shape.groups, g = ng % shape.groups, base = ng * d * s;
  const bool lane_in_row = threadIdx.x < s / P;
  Pack<T, P> v[kRows] = {};
  T sum = T(0);
  S2DM_UNROLL
  for (int i = 0; i < kRows; ++i) {
    const int64_t cd = threadIdx.y + i * static_cast<int64_t>(blockDim.y);
    if (lane_in_row && cd < d) {
      v[i] = load<P>(x, base + cd * s + threadIdx.x * P);
      const T add = channel_of(channel_add, shape, n, g * d + cd);
      for (int j = 0; j < P; ++j) {
        v[i].v[j] += add;
        sum += v[i].v[j];
      }
    }
  }
  const T k = static_cast<T>(d * s);
  const T mu = block_total(sum, slots) / k;
  T sq = T(0);
  S2DM_UNROLL
  for (int i = 0; i < kRows; ++i) {
    const int64_t cd = threadIdx.y + i * static_cast<int64_t>(blockDim.y);
    if (lane_in_row && cd < d)
      for (int j = 0; j < P; ++j) sq += (v[i].v[j] - mu) * (v[i].v[j] - mu);
  }
  const T r = rsqrt_of(block_total(sq, slots) / k + eps);
  if (linear_tid() == 0) {
    mean[ng] = mu;
    rstd[ng] = r;
  }
  S2DM_UNROLL
  for (int i = 0; i < kRows; ++i) {
    const int64_t cd = threadIdx.y + i * static_cast<int64_t>(blockDim.y), c = g * d + cd;
    if (!lane_in_row || cd >= d) continue;
    const T a = r * (gamma != nullptr ? gamma[c] : T(1));
    const T b = (beta != nullptr ? beta[c] : T(0)) - a * mu;
    for (int j = 0; j < P; ++j) {
      const T z = v[i].v[j] * a + b;
      v[i].v[j] = silu ? z * sigmoid_of(z) : z;
    }
    store<P>(y, base + cd * s + threadIdx.x * P, v[i]);
  }
}

template <typename T, int kRows>
__global__ void __launch_bounds__(kCachedThreads)
    group_norm_backward_cached_kernel(const T* x, const T* channel_add, const T* gamma,
                                      const T* beta, const T* mean, const T* rstd, const T* dy,
                                      GroupNormShape shape, bool silu, T* dx, T* sums) {
  constexpr int P = kPackOf<T>;
  __shared__ T slots[kCachedWarps], sa[kCachedWarps], sb[kCachedWarps];
  const int64_t ng = blockIdx.x, d = shape.c / shape.groups, s = shape.spatial;
  const int64_t n = ng / shape.groups, g = ng % shape.groups, base = ng * d * s;
  const bool lane_in_row = threadIdx.x < s / P;
  const T mu = mean[ng], r = rstd[ng];
  Pack<T, P> xv[kRows] = {}, dp[kRows] = {};  // x (+ channel_add), dY' = dY·silu'(z)
  T group_dxc = T(0), group_d = T(0);  // γ-weighted totals, gathered by each row's lane 0
  S2DM_UNROLL
  for (int i = 0; i < kRows; ++i) {
    const int64_t cd = threadIdx.y + i * static_cast<int64_t>(blockDim.y), c = g * d + cd;
    const bool row = cd < d;
    const T gm = row && gamma != nullptr ? gamma[c] : T(1);
    T sum_dxc = T(0), sum_d = T(0);
    if (row && lane_in_row) {
      const T a = r * gm, b = (beta != nullptr ? beta[c] : T(0)) - a * mu;
      const T add = channel_of(channel_add, shape, n, c);
      const int64_t at = base + cd * s + threadIdx.x * P;
      xv[i] = load<P>(x, at);
      dp[i] = load<P>(dy, at);
      for (int j = 0; j < P; ++j) {
        xv[i].v[j] += add;
        if (silu) dp[i].v[j] = silu_grad(dp[i].v[j], xv[i].v[j] * a + b);
        sum_dxc += dp[i].v[j] * (xv[i].v[j] - mu);
        sum_d += dp[i].v[j];
      }
    }
    cached_row_totals(sum_dxc, sum_d, sa, sb);
    if (threadIdx.x == 0 && row)
      keep_channel_sums(shape, n, c, gm, sum_dxc, sum_d, sums, group_dxc, group_d);
  }
  if (dx == nullptr) return;  // the same for the whole block
  const DxCoefficients<T> coef = dx_coefficients(r, block_total(group_dxc, slots),
                                                 block_total(group_d, slots), d * s);
  S2DM_UNROLL
  for (int i = 0; i < kRows; ++i) {
    const int64_t cd = threadIdx.y + i * static_cast<int64_t>(blockDim.y), c = g * d + cd;
    if (!lane_in_row || cd >= d) continue;
    const T a = r * (gamma != nullptr ? gamma[c] : T(1));
    for (int j = 0; j < P; ++j)
      dp[i].v[j] = a * dp[i].v[j] + coef.c2 * (xv[i].v[j] - mu) + coef.c3;
    store<P>(dx, base + cd * s + threadIdx.x * P, dp[i]);
  }
}

// The cached path's block and rows per thread, or rows = 0 when the shape or a buffer does not
// allow it.
struct CachedLayout {
  dim3 block;
  int rows = 0;
};

template <typename T>
CachedLayout cached_layout(const GroupNormShape& shape, std::initializer_list<const void*> bufs) {
  constexpr int P = kPackOf<T>;
  const int64_t d = shape.c / shape.groups;
  if (shape.spatial % P != 0) return {};
  for (const void* p : bufs)
    if (p != nullptr && !pack_aligned(p)) return {};
  const int64_t row_packs = shape.spatial / P;
  unsigned bx = 1, by = 1;
  while (bx < row_packs) bx *= 2;
  if (bx > kCachedThreads) return {};
  while (bx * by * 2 <= kCachedThreads && by < d) by *= 2;
  while (bx * by < 32) by *= 2;  // whole warps; the extra rows idle
  const int64_t rows = (d + by - 1) / by;
  if (rows > kMaxRows) return {};
  int r = 1;
  while (r < rows) r *= 2;
  return {dim3(bx, by), r};
}

dim3 block_shape(const GroupNormShape& shape) {
  const int64_t d = shape.c / shape.groups;
  unsigned bx = 32, by = 1;
  while (bx < kMaxThreads && bx < shape.spatial) bx *= 2;
  while (bx * by * 2 <= kMaxThreads && by < d) by *= 2;
  return dim3(bx, by);
}

}  // namespace

template <typename T>
void launch_group_norm_forward(const T* x, const T* channel_add, const T* gamma, const T* beta,
                               GroupNormShape shape, double eps, bool silu, T* y, T* mean,
                               T* rstd, cudaStream_t stream) {
  const int64_t blocks = shape.n * shape.groups;
  if (blocks == 0) return;
  const dim3 grid(static_cast<unsigned>(blocks));
  const CachedLayout cached = cached_layout<T>(shape, {x, y});
  const T e = static_cast<T>(eps);
  switch (cached.rows) {
    case 1: return launch(group_norm_forward_cached_kernel<T, 1>, grid, cached.block, 0, stream,
                          x, channel_add, gamma, beta, shape, e, silu, y, mean, rstd);
    case 2: return launch(group_norm_forward_cached_kernel<T, 2>, grid, cached.block, 0, stream,
                          x, channel_add, gamma, beta, shape, e, silu, y, mean, rstd);
    case 4: return launch(group_norm_forward_cached_kernel<T, 4>, grid, cached.block, 0, stream,
                          x, channel_add, gamma, beta, shape, e, silu, y, mean, rstd);
    case 8: return launch(group_norm_forward_cached_kernel<T, 8>, grid, cached.block, 0, stream,
                          x, channel_add, gamma, beta, shape, e, silu, y, mean, rstd);
    default:
      launch(group_norm_forward_kernel<T>, grid, block_shape(shape), 0, stream, x, channel_add,
             gamma, beta, shape, e, silu, y, mean, rstd);
  }
}

template <typename T>
void launch_group_norm_backward(const T* x, const T* channel_add, const T* gamma, const T* beta,
                                const T* mean, const T* rstd, const T* dy, GroupNormShape shape,
                                bool silu, T* dx, T* dgamma, T* dbeta, T* workspace,
                                cudaStream_t stream) {
  const bool affine = dgamma != nullptr || dbeta != nullptr;
  T* sums = affine ? workspace : nullptr;
  const int64_t blocks = shape.n * shape.groups;
  if (blocks > 0 && (dx != nullptr || affine)) {
    const dim3 grid(static_cast<unsigned>(blocks));
    const CachedLayout cached = cached_layout<T>(shape, {x, dy, dx});
    switch (cached.rows) {
      case 1:
        launch(group_norm_backward_cached_kernel<T, 1>, grid, cached.block, 0, stream, x,
               channel_add, gamma, beta, mean, rstd, dy, shape, silu, dx, sums);
        break;
      case 2:
        launch(group_norm_backward_cached_kernel<T, 2>, grid, cached.block, 0, stream, x,
               channel_add, gamma, beta, mean, rstd, dy, shape, silu, dx, sums);
        break;
      case 4:
        launch(group_norm_backward_cached_kernel<T, 4>, grid, cached.block, 0, stream, x,
               channel_add, gamma, beta, mean, rstd, dy, shape, silu, dx, sums);
        break;
      case 8:
        launch(group_norm_backward_cached_kernel<T, 8>, grid, cached.block, 0, stream, x,
               channel_add, gamma, beta, mean, rstd, dy, shape, silu, dx, sums);
        break;
      default:
        launch(group_norm_backward_kernel<T>, grid, block_shape(shape), 0, stream, x,
               channel_add, gamma, beta, mean, rstd, dy, shape, silu, dx, sums);
    }
  }
  if (affine && shape.c > 0) {
    const int64_t grid = ceil_div(shape.c, kAffineBlock);
    launch(group_norm_affine_grad_kernel<T>, dim3(static_cast<unsigned>(grid)), kAffineBlock, 0,
           stream, rstd, sums, shape, dgamma, dbeta);
  }
}

#define S2DM_INSTANTIATE_GROUP_NORM(T)                                                          \
  template void launch_group_norm_forward<T>(const T*, const T*, const T*, const T*,            \
                                             GroupNormShape, double, bool, T*, T*, T*,          \
                                             cudaStream_t);                                     \
  template void launch_group_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, \
                                              const T*, const T*, GroupNormShape, bool, T*, T*, \
                                              T*, T*, cudaStream_t);
S2DM_INSTANTIATE_GROUP_NORM(float)
S2DM_INSTANTIATE_GROUP_NORM(double)
#undef S2DM_INSTANTIATE_GROUP_NORM

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
