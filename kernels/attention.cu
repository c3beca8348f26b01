// Single-head attention kernels in the style of FlashAttention, in plain FP32/FP64 FMA: scores
// are recomputed tile by tile and nothing [B, N, M]-sized is ever stored.
//
// Launch shape: 256 threads as a 16x16 grid (tx, ty). A block owns a tile of R = 64 rows
// (queries in forward and dQ, keys in dK/dV) and W output features, and streams tiles of S
// columns of the other side (S = 64 in float, 32 in double). Thread (tx, ty) holds rows ty + 16i
// and columns tx + 16j of every register tile, so a row's 16 threads are one half warp and row
// statistics reduce with four shuffles. Operands pass through shared memory k-major, in chunks of
// 32 (float) or 16 (double) along the contraction, so any C, D, N and M fit the same ~33 KB of
// static shared memory; the product loop then reads a broadcast word per row and a
// conflict-free word per column. W is 64 for outputs of up to 64 features, else 128; wider
// outputs split over blockIdx.y, each split recomputing the scores (the accumulators live in
// registers, which bound W).
//
// Forward: per key tile, S = scale·Q Kᵀ; an online softmax updates the running row max m and
// sum l and rescales the O accumulator; O += P V with P staged in shared memory. At the end
// o = O / l and lse = m + log l.
//
// Backward: Di = rowsum(dO ⊙ O) first (a warp per row). Then, recomputing P = exp(scale·Q Kᵀ −
// lse) and dS = P ⊙ (dO Vᵀ − Di) per tile pair, one kernel per key tile loops over the query
// tiles for dV = Pᵀ dO and dK = scale·dSᵀ Q, and one per query tile loops over the key tiles for
// dQ = scale·dS K. Each output element has one owner thread that accumulates in a fixed order:
// no atomics, so results are identical run to run.
#include <cmath>

#include "kernels/attention.cuh"
#include "kernels/device_common.cuh"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

namespace {

constexpr int kSide = 16;
constexpr int kThreads = kSide * kSide;
constexpr int kRowsPerThread = 4;
constexpr int kNarrowCols = 4;  // output features per thread when the output is narrow
constexpr int kWideCols = 8;

constexpr int max_of(int a, int b) { return a < b ? b : a; }

// Score-tile columns per thread and the depth of a staged operand chunk: double halves both so
// that its shared memory matches float's.
template <typename T>
struct Tiles;
template <>
struct Tiles<float> {
  static constexpr int kCols = 4, kDepth = 32;
};
template <>
struct Tiles<double> {
  static constexpr int kCols = 2, kDepth = 16;
};

// A kernel's tile sizes, with kNJ output features per thread.
template <typename T, int kNJ_>
struct Geometry {
  static constexpr int kRI = kRowsPerThread, kCJ = Tiles<T>::kCols, kNJ = kNJ_;
  static constexpr int kR = kSide * kRI;  // rows of the block's tile
  static constexpr int kS = kSide * kCJ;  // columns of a score tile
  static constexpr int kW = kSide * kNJ;  // output features of the block
  static constexpr int kDepth = Tiles<T>::kDepth;
  // Leading dimensions of the k-major tiles written transposed: odd, to spread those stores over
  // the banks.
  static constexpr int kLdA = kR + 1, kLdB = kS + 1;
  static constexpr int kStage = max_of(kDepth * (kLdA + kLdB), kDepth * kW);
  static constexpr int kTileP = kS * kLdA;  // P or dS as a k-major operand
};

__device__ __forceinline__ int tid() { return static_cast<int>(threadIdx.x + kSide * threadIdx.y); }
__device__ __forceinline__ int tx() { return static_cast<int>(threadIdx.x); }
__device__ __forceinline__ int ty() { return static_cast<int>(threadIdx.y); }

// Max and sum over the 16 threads of a row (a half warp), returned to each of them.
template <typename T>
__device__ __forceinline__ T row_max(T v) {
  return warp_reduce(v, [](T a, T b) { return a < b ? b : a; }, kSide);
}
template <typename T>
__device__ __forceinline__ T row_sum(T v) { return warp_sum(v, kSide); }

template <typename T, int I, int J>
__device__ __forceinline__ void zero(T (&a)[I][J]) {
  for (int i = 0; i < I; ++i)
    for (int j = 0; j < J; ++j) a[i][j] = T(0);
}

// dst[kk·(kRows + 1) + r] = src[row0 + r][f0 + kk] for r < kRows, kk < kDepth: a tile of the
// row-major src (rows of ld features) stored k-major; past `rows` or ld it reads zero.
template <int kRows, int kDepth, typename T>
__device__ __forceinline__ void stage_rows(T* dst, const T* src, int64_t rows, int64_t ld,
                                           int64_t row0, int64_t f0) {
  for (int e = tid(); e < kRows * kDepth; e += kThreads) {
    const int kk = e % kDepth, r = e / kDepth;  // kk fastest: coalesced reads
    const int64_t row = row0 + r, f = f0 + kk;
    dst[kk * (kRows + 1) + r] = row < rows && f < ld ? src[row * ld + f] : T(0);
  }
}

// dst[kk·kCols + c] = src[k0 + kk][f0 + c] for kk < kDepth, c < kCols: a tile of the row-major
// src whose rows are the contraction index; past `rows` or ld it reads zero.
template <int kDepth, int kCols, typename T>
__device__ __forceinline__ void stage_cols(T* dst, const T* src, int64_t rows, int64_t ld,
                                           int64_t k0, int64_t f0) {
  for (int e = tid(); e < kDepth * kCols; e += kThreads) {
    const int c = e % kCols, kk = e / kCols;
    const int64_t row = k0 + kk, f = f0 + c;
    dst[e] = row < rows && f < ld ? src[row * ld + f] : T(0);
  }
}

// acc[i][j] += Σ_kk a[kk·kLda + ty + 16i] · b[kk·kLdb + tx + 16j], both in shared memory.
template <int kDepth, int kLda, int kLdb, typename T, int I, int J>
__device__ __forceinline__ void mma(T (&acc)[I][J], const T* a, const T* b) {
  for (int kk = 0; kk < kDepth; ++kk) {
    T av[I], bv[J];
    for (int i = 0; i < I; ++i) av[i] = a[kk * kLda + ty() + kSide * i];
    for (int j = 0; j < J; ++j) bv[j] = b[kk * kLdb + tx() + kSide * j];
    for (int i = 0; i < I; ++i)
      for (int j = 0; j < J; ++j) acc[i][j] += av[i] * bv[j];
  }
}

// s[i][j] = Σ_f a[a0 + ty + 16i][f] · b[b0 + tx + 16j][f] over the `features` columns of the
// row-major a (a_rows rows) and b (b_rows rows); rows past the ends read as zero. Every thread
// of the block calls it (it holds barriers).
template <typename G, typename T>
__device__ void score_tile(T (&s)[G::kRI][G::kCJ], const T* a, int64_t a_rows, int64_t a0,
                           const T* b, int64_t b_rows, int64_t b0, int64_t features, T* stage) {
  zero(s);
  T* a_s = stage;
  T* b_s = stage + G::kDepth * G::kLdA;
  for (int64_t f0 = 0; f0 < features; f0 += G::kDepth) {
    stage_rows<G::kR, G::kDepth>(a_s, a, a_rows, features, a0, f0);
    stage_rows<G::kS, G::kDepth>(b_s, b, b_rows, features, b0, f0);
    __syncthreads();
    mma<G::kDepth, G::kLdA, G::kLdB>(s, a_s, b_s);
    __syncthreads();
  }
}

// p_s[(tx + 16j)·kLdA + ty + 16i] = p[i][j]: a score tile as the k-major operand of
// accumulate_tile. The caller's next barrier publishes it.
template <typename G, typename T>
__device__ __forceinline__ void store_tile(T* p_s, const T (&p)[G::kRI][G::kCJ]) {
  for (int i = 0; i < G::kRI; ++i)
    for (int j = 0; j < G::kCJ; ++j) p_s[(tx() + kSide * j) * G::kLdA + ty() + kSide * i] = p[i][j];
}

// acc[i][j] += Σ_kk p_s[kk·kLdA + ty + 16i] · src[k0 + kk][f0 + tx + 16j] over the kS rows of
// the stored tile; src has ld features per row, and rows past `rows` read as zero. Every thread
// of the block calls it (it holds barriers).
template <typename G, typename T>
__device__ void accumulate_tile(T (&acc)[G::kRI][G::kNJ], const T* p_s, const T* src, int64_t rows,
                                int64_t ld, int64_t k0, int64_t f0, T* stage) {
  for (int kk0 = 0; kk0 < G::kS; kk0 += G::kDepth) {
    stage_cols<G::kDepth, G::kW>(stage, src, rows, ld, k0 + kk0, f0);
    __syncthreads();
    mma<G::kDepth, G::kLdA, G::kW>(acc, p_s + kk0 * G::kLdA, stage);
    __syncthreads();
  }
}

// out[row0 + ty + 16i][f0 + tx + 16j] = factor · acc[i][j] inside rows x ld.
template <typename G, typename T>
__device__ __forceinline__ void store_rows(T* out, int64_t rows, int64_t ld, int64_t row0,
                                           int64_t f0, const T (&acc)[G::kRI][G::kNJ], T factor) {
  for (int i = 0; i < G::kRI; ++i) {
    const int64_t row = row0 + ty() + kSide * i;
    if (row >= rows) continue;
    for (int j = 0; j < G::kNJ; ++j) {
      const int64_t f = f0 + tx() + kSide * j;
      if (f < ld) out[row * ld + f] = factor * acc[i][j];
    }
  }
}

// The block's batch entry and the first row of its tile: blockIdx.x = batch · tiles + tile.
struct TileIndex {
  int64_t batch, row0;
};
template <typename G>
__device__ __forceinline__ TileIndex tile_index(int64_t rows) {
  const int64_t tiles = ceil_div(rows, G::kR);
  return {blockIdx.x / tiles, (blockIdx.x % tiles) * G::kR};
}

template <typename T, int kNJ>
__global__ void __launch_bounds__(kThreads)
    attention_forward_kernel(const T* q, const T* k, const T* v, AttentionShape sh, T scale,
                             T* o, T* lse) {
  using G = Geometry<T, kNJ>;
  __shared__ T stage[G::kStage];
  __shared__ T p_s[G::kTileP];
  const TileIndex t = tile_index<G>(sh.n);
  const int64_t f0 = blockIdx.y * static_cast<int64_t>(G::kW);
  const T* qb = q + t.batch * sh.n * sh.c;
  const T* kb = k + t.batch * sh.m * sh.c;
  const T* vb = v + t.batch * sh.m * sh.d;
  T m[G::kRI], l[G::kRI], acc[G::kRI][G::kNJ];
  for (int i = 0; i < G::kRI; ++i) {
    m[i] = T(-INFINITY);
    l[i] = T(0);
  }
  zero(acc);
  for (int64_t k0 = 0; k0 < sh.m; k0 += G::kS) {
    T s[G::kRI][G::kCJ];
    score_tile<G>(s, qb, sh.n, t.row0, kb, sh.m, k0, sh.c, stage);
    // Every key tile holds at least one key, so the new max is finite; exp(−inf) = 0 takes care
    // of the first tile's rescaling and of the keys past M.
    for (int i = 0; i < G::kRI; ++i) {
      T mx = m[i];
      for (int j = 0; j < G::kCJ; ++j) {
        s[i][j] = k0 + tx() + kSide * j < sh.m ? s[i][j] * scale : T(-INFINITY);
        mx = mx < s[i][j] ? s[i][j] : mx;
      }
      mx = row_max(mx);
      const T alpha = exp_of(m[i] - mx);
      T sum = T(0);
      for (int j = 0; j < G::kCJ; ++j) {
        s[i][j] = exp_of(s[i][j] - mx);
        sum += s[i][j];
      }
      l[i] = l[i] * alpha + row_sum(sum);
      m[i] = mx;
      for (int j = 0; j < G::kNJ; ++j) acc[i][j] *= alpha;
    }
    store_tile<G>(p_s, s);
    accumulate_tile<G>(acc, p_s, vb, sh.m, sh.d, k0, f0, stage);
  }
  for (int i = 0; i < G::kRI; ++i) {
    const int64_t row = t.row0 + ty() + kSide * i;
    if (row >= sh.n) continue;
    const T inv = T(1) / l[i];
    for (int j = 0; j < G::kNJ; ++j) {
      const int64_t f = f0 + tx() + kSide * j;
      if (f < sh.d) o[(t.batch * sh.n + row) * sh.d + f] = acc[i][j] * inv;
    }
    if (blockIdx.y == 0 && tx() == 0) lse[t.batch * sh.n + row] = m[i] + log_of(l[i]);
  }
}

// di[r] = Σ_f d_o[r][f] · o[r][f] for each of the `rows` rows of d features: a warp per row.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    attention_delta_kernel(const T* o, const T* d_o, int64_t rows, int64_t d, T* di) {
  constexpr int kWarps = kThreads / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(kWarps) + threadIdx.x / 32; r < rows;
       r += static_cast<int64_t>(gridDim.x) * kWarps) {
    T sum = T(0);
    for (int64_t f = lane; f < d; f += 32) sum += d_o[r * d + f] * o[r * d + f];
    sum = warp_sum(sum);
    if (lane == 0) di[r] = sum;
  }
}

// One block per key tile and feature split: dV = Pᵀ dO and dK = scale·dSᵀ Q over all queries.
template <typename T, int kNJ>
__global__ void __launch_bounds__(kThreads)
    attention_dkdv_kernel(const T* q, const T* k, const T* v, const T* lse, const T* di,
                          const T* d_o, AttentionShape sh, T scale, T* dk, T* dv) {
  using G = Geometry<T, kNJ>;
  __shared__ T stage[G::kStage];
  __shared__ T p_s[G::kTileP];
  const TileIndex t = tile_index<G>(sh.m);
  const int64_t f0 = blockIdx.y * static_cast<int64_t>(G::kW);
  const bool want_dk = dk != nullptr && f0 < sh.c, want_dv = dv != nullptr && f0 < sh.d;
  const T* qb = q + t.batch * sh.n * sh.c;
  const T* kb = k + t.batch * sh.m * sh.c;
  const T* vb = v + t.batch * sh.m * sh.d;
  const T* dob = d_o + t.batch * sh.n * sh.d;
  T acc_dk[G::kRI][G::kNJ], acc_dv[G::kRI][G::kNJ];
  zero(acc_dk);
  zero(acc_dv);
  for (int64_t q0 = 0; q0 < sh.n; q0 += G::kS) {
    T p[G::kRI][G::kCJ];  // Pᵀ: keys x queries
    score_tile<G>(p, kb, sh.m, t.row0, qb, sh.n, q0, sh.c, stage);
    for (int j = 0; j < G::kCJ; ++j) {
      const int64_t query = q0 + tx() + kSide * j;
      const bool valid = query < sh.n;
      const T row_lse = valid ? lse[t.batch * sh.n + query] : T(0);
      for (int i = 0; i < G::kRI; ++i) p[i][j] = valid ? exp_of(p[i][j] * scale - row_lse) : T(0);
    }
    if (want_dv) {
      store_tile<G>(p_s, p);
      accumulate_tile<G>(acc_dv, p_s, dob, sh.n, sh.d, q0, f0, stage);
    }
    if (want_dk) {
      T ds[G::kRI][G::kCJ];  // dPᵀ, then dSᵀ
      score_tile<G>(ds, vb, sh.m, t.row0, dob, sh.n, q0, sh.d, stage);
      for (int j = 0; j < G::kCJ; ++j) {
        const int64_t query = q0 + tx() + kSide * j;
        const T delta = query < sh.n ? di[t.batch * sh.n + query] : T(0);
        for (int i = 0; i < G::kRI; ++i) ds[i][j] = p[i][j] * (ds[i][j] - delta);
      }
      store_tile<G>(p_s, ds);
      accumulate_tile<G>(acc_dk, p_s, qb, sh.n, sh.c, q0, f0, stage);
    }
  }
  if (want_dk) store_rows<G>(dk + t.batch * sh.m * sh.c, sh.m, sh.c, t.row0, f0, acc_dk, scale);
  if (want_dv) store_rows<G>(dv + t.batch * sh.m * sh.d, sh.m, sh.d, t.row0, f0, acc_dv, T(1));
}

// One block per query tile and feature split: dQ = scale·dS K over all keys.
template <typename T, int kNJ>
__global__ void __launch_bounds__(kThreads)
    attention_dq_kernel(const T* q, const T* k, const T* v, const T* lse, const T* di,
                        const T* d_o, AttentionShape sh, T scale, T* dq) {
  using G = Geometry<T, kNJ>;
  __shared__ T stage[G::kStage];
  __shared__ T p_s[G::kTileP];
  const TileIndex t = tile_index<G>(sh.n);
  const int64_t f0 = blockIdx.y * static_cast<int64_t>(G::kW);
  const T* qb = q + t.batch * sh.n * sh.c;
  const T* kb = k + t.batch * sh.m * sh.c;
  const T* vb = v + t.batch * sh.m * sh.d;
  const T* dob = d_o + t.batch * sh.n * sh.d;
  T row_lse[G::kRI], delta[G::kRI];
  for (int i = 0; i < G::kRI; ++i) {
    const int64_t row = t.row0 + ty() + kSide * i;
    row_lse[i] = row < sh.n ? lse[t.batch * sh.n + row] : T(0);
    delta[i] = row < sh.n ? di[t.batch * sh.n + row] : T(0);
  }
  T acc[G::kRI][G::kNJ];
  zero(acc);
  for (int64_t k0 = 0; k0 < sh.m; k0 += G::kS) {
    T p[G::kRI][G::kCJ];
    score_tile<G>(p, qb, sh.n, t.row0, kb, sh.m, k0, sh.c, stage);
    for (int j = 0; j < G::kCJ; ++j) {
      const bool valid = k0 + tx() + kSide * j < sh.m;
      for (int i = 0; i < G::kRI; ++i)
        p[i][j] = valid ? exp_of(p[i][j] * scale - row_lse[i]) : T(0);
    }
    T ds[G::kRI][G::kCJ];  // dP, then dS
    score_tile<G>(ds, dob, sh.n, t.row0, vb, sh.m, k0, sh.d, stage);
    for (int i = 0; i < G::kRI; ++i)
      for (int j = 0; j < G::kCJ; ++j) ds[i][j] = p[i][j] * (ds[i][j] - delta[i]);
    store_tile<G>(p_s, ds);
    accumulate_tile<G>(acc, p_s, kb, sh.m, sh.c, k0, f0, stage);
  }
  store_rows<G>(dq + t.batch * sh.n * sh.c, sh.n, sh.c, t.row0, f0, acc, scale);
}

// Blocks for `rows` rows per batch entry and `width` output features (at least one split).
template <typename G>
dim3 grid_for(int64_t batch, int64_t rows, int64_t width) {
  const int64_t splits = width > G::kW ? ceil_div(width, G::kW) : 1;
  return dim3(static_cast<unsigned>(batch * ceil_div(rows, G::kR)), static_cast<unsigned>(splits));
}

template <typename T, int kNJ>
void forward(const T* q, const T* k, const T* v, const AttentionShape& sh, T scale, T* o, T* lse,
             cudaStream_t stream) {
  launch(attention_forward_kernel<T, kNJ>, grid_for<Geometry<T, kNJ>>(sh.b, sh.n, sh.d),
         dim3(kSide, kSide), 0, stream, q, k, v, sh, scale, o, lse);
}

template <typename T, int kNJ>
void dkdv(const T* q, const T* k, const T* v, const T* lse, const T* di, const T* d_o,
          const AttentionShape& sh, int64_t width, T scale, T* dk, T* dv, cudaStream_t stream) {
  launch(attention_dkdv_kernel<T, kNJ>, grid_for<Geometry<T, kNJ>>(sh.b, sh.m, width),
         dim3(kSide, kSide), 0, stream, q, k, v, lse, di, d_o, sh, scale, dk, dv);
}

template <typename T, int kNJ>
void dq_of(const T* q, const T* k, const T* v, const T* lse, const T* di, const T* d_o,
           const AttentionShape& sh, T scale, T* dq, cudaStream_t stream) {
  launch(attention_dq_kernel<T, kNJ>, grid_for<Geometry<T, kNJ>>(sh.b, sh.n, sh.c),
         dim3(kSide, kSide), 0, stream, q, k, v, lse, di, d_o, sh, scale, dq);
}

// Outputs up to 64 features wide take the narrow tile: half the registers, no idle columns.
bool narrow(int64_t width) { return width <= kSide * kNarrowCols; }

}  // namespace

template <typename T>
void launch_attention_forward(const T* q, const T* k, const T* v, AttentionShape shape,
                              double scale, T* o, T* lse, cudaStream_t stream) {
  if (shape.b * shape.n == 0) return;
  const T s = static_cast<T>(scale);
  if (narrow(shape.d))
    forward<T, kNarrowCols>(q, k, v, shape, s, o, lse, stream);
  else
    forward<T, kWideCols>(q, k, v, shape, s, o, lse, stream);
}

template <typename T>
void launch_attention_backward(const T* q, const T* k, const T* v, const T* o, const T* lse,
                               const T* d_o, AttentionShape shape, double scale, T* dq, T* dk,
                               T* dv, T* workspace, cudaStream_t stream) {
  const T s = static_cast<T>(scale);
  const int64_t rows = shape.b * shape.n;
  if ((dq != nullptr || dk != nullptr) && rows > 0) {
    launch(attention_delta_kernel<T>, blocks_for(rows, kThreads / 32), kThreads, 0, stream, o, d_o,
           rows, shape.d, workspace);
  }
  const int64_t dk_width = dk != nullptr ? shape.c : 0, dv_width = dv != nullptr ? shape.d : 0;
  const int64_t kv_width = dk_width < dv_width ? dv_width : dk_width;
  if (kv_width > 0 && shape.b * shape.m > 0) {
    if (narrow(kv_width))
      dkdv<T, kNarrowCols>(q, k, v, lse, workspace, d_o, shape, kv_width, s, dk, dv, stream);
    else
      dkdv<T, kWideCols>(q, k, v, lse, workspace, d_o, shape, kv_width, s, dk, dv, stream);
  }
  if (dq != nullptr && shape.c > 0 && rows > 0) {
    if (narrow(shape.c))
      dq_of<T, kNarrowCols>(q, k, v, lse, workspace, d_o, shape, s, dq, stream);
    else
      dq_of<T, kWideCols>(q, k, v, lse, workspace, d_o, shape, s, dq, stream);
  }
}

#define S2DM_INSTANTIATE_ATTENTION(T)                                                          \
  template void launch_attention_forward<T>(const T*, const T*, const T*, AttentionShape,      \
                                            double, T*, T*, cudaStream_t);                     \
  template void launch_attention_backward<T>(const T*, const T*, const T*, const T*, const T*, \
                                             const T*, AttentionShape, double, T*, T*, T*, T*, \
                                             cudaStream_t);
S2DM_INSTANTIATE_ATTENTION(float)
S2DM_INSTANTIATE_ATTENTION(double)
#undef S2DM_INSTANTIATE_ATTENTION

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
