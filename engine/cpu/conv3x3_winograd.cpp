// Winograd F(m×m, 3×3) convolutions (conv3x3_winograd.h).
//
// In 1-D a tile of m outputs of a 3-tap correlation is y = Aᵀ[(G g) ⊙ (Bᵀ d)] over an input
// tile d of α = m + 2 values; in 2-D, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Summed over input channels,
// each of the α² transformed positions ξ is a GEMM over all T tiles of all samples:
//   forward          X[ξ](T×Co) = V[ξ](T×Ci) · U[ξ](Ci×Co),  V = Bᵀ x B per tile, U = G w Gᵀ,
//                    then y = Aᵀ X A per tile;
//   input gradient   the same with w transposed and turned 180° (a 3x3 padding-1 convolution
//                    of dy), so it shares the forward's code;
//   weight gradient  Z[ξ](Co×Ci) = Y[ξ]ᵀ · V[ξ] with Y = A dy Aᵀ per tile, then dw = Gᵀ Z G:
//                    the derivative of Σ dy·y through the same trilinear form.
// Tiles past the image's edge read zeros and write nothing.
//
// Channels are the fastest index of V, X, Y and U, so a transform runs L channels at once, one
// per SIMD lane: a tile row's pixels are first gathered from their NCHW planes into a strip with
// the channels last (load_strip), each tile's patch is then whole vectors, and the transforms'
// matrices are template arguments, folded into a few vector operations. The passes walk tiles
// before channel groups, so that each cache line of V, X and Y is filled while it is in cache. The
// GEMMs are independent per position and row block and spread over the OpenMP team, each
// single-threaded in OpenBLAS. Every output element comes from one GEMM and one transform in a
// fixed order, so results do not depend on the thread count.
//
// The transformed operands are α²/m² = 2.25x the data they come from (U 4x the weights), so
// where tiles are few the GEMMs stream U from memory and direct kernels win (winograd_tile).
#include "engine/cpu/conv3x3_winograd.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "engine/cpu/scratch.h"

namespace s2dm::cpu {

namespace {

using std::size_t;

// Channels transformed together, one per SIMD lane: one AVX-512 register of floats, two of AVX2.
constexpr int L = 16;

template <size_t R, size_t C>
using Mat = std::array<std::array<double, C>, R>;

template <size_t R, size_t C>
constexpr Mat<C, R> transpose(const Mat<R, C>& a) {
  Mat<C, R> t{};
  for (size_t i = 0; i < R; ++i)
    for (size_t j = 0; j < C; ++j) t[j][i] = a[i][j];
  return t;
}

// The F(m, 3) matrices, Toom-Cook on the interpolation points 0, ±1 and ∞ for m = 2, and
// 0, ±1, 1/2, -2 and ∞ for m = 4: against the usual 0, ±1, ±2 these cut float32's error at UNet
// shapes 2.5-4x (about 4e-6 of the largest value, test_conv_winograd.cpp). Bᵀ follows from G
// and Aᵀ, as the one matrix for which Aᵀ[(G g) ⊙ (Bᵀ d)] is the correlation of d and g.
template <int M>
struct Tile;
template <>
struct Tile<2> {
  static constexpr int kAlpha = 4;
  static constexpr Mat<4, 4> BT = {{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
  static constexpr Mat<4, 3> G = {{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}};
  static constexpr Mat<2, 4> AT = {{{1, 1, 1, 0}, {0, 1, -1, -1}}};
};
template <>
struct Tile<4> {
  static constexpr int kAlpha = 6;
  static constexpr Mat<6, 6> BT = {{{1, -1.5, -2, 1.5, 1, 0},
                                    {0, -1, 0.5, 2.5, 1, 0},
                                    {0, 1, -2.5, 0.5, 1, 0},
                                    {0, -2, -1, 2, 1, 0},
                                    {0, 0.5, -1, -0.5, 1, 0},
                                    {0, 1, -1.5, -2, 1.5, 1}}};
  static constexpr Mat<6, 3> G = {{{1, 0, 0},
                                   {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                   {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                   {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                   {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                   {0, 0, 1}}};
  static constexpr Mat<4, 6> AT = {{{1, 1, 1, 1, 1, 0},
                                    {0, 1, -1, 0.5, -2, 0},
                                    {0, 1, 1, 0.25, 4, 0},
                                    {0, 1, -1, 0.125, -8, 1}}};
};

// An R×C block of L-lane values.
template <typename T, size_t R, size_t C>
using Block = T[R][C][L];

// dst[0, lanes) = src[0, lanes); the rest of dst's L lanes, if `fill`, zero. A full group is a
// fixed-length loop (vector moves; a variable-length std::copy becomes a memmove call).
template <typename T>
inline void copy_lanes(const T* src, int lanes, T* dst, bool fill = false) {
  if (lanes == L) {
    for (int l = 0; l < L; ++l) dst[l] = src[l];
    return;
  }
  for (int l = 0; l < lanes; ++l) dst[l] = src[l];
  if (fill)
    for (int l = lanes; l < L; ++l) dst[l] = T(0);
}

// f(0), f(1), ..., f(N-1), each index a compile-time constant.
template <size_t N, typename F>
inline void static_for(F&& f) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<size_t, I>{}), ...);
  }(std::make_index_sequence<N>{});
}

// One side of a transform: out = a · in (kRows, a: R2×R) or out = in · aᵀ (a: C2×C). The
// matrix is a template argument so that its zeros cost nothing and its ±1 entries become
// additions: a transform is then a few vector operations per value, not a general small
// matrix product.
template <const auto& a, bool kRows, typename T, size_t R, size_t C, size_t R2, size_t C2>
inline void apply(const Block<T, R, C>& in, Block<T, R2, C2>& out) {
  constexpr size_t kOut = kRows ? R2 : C2, kIn = kRows ? R : C, kOther = kRows ? C : R;
  static_for<kOut>([&](auto u) {
    for (size_t v = 0; v < kOther; ++v) {
      // Declared aligned: GCC aligns it for its vector stores anyway, and ASan's fake stack
      // honours only declared alignment.
      alignas(64) T acc[L] = {};
      static_for<kIn>([&](auto k) {
        constexpr T c = static_cast<T>(a[u][k]);
        if constexpr (c != 0) {
          const T* src = kRows ? in[k][v] : in[v][k];
#pragma omp simd
          for (int l = 0; l < L; ++l) acc[l] += c * src[l];
        }
      });
      std::copy(acc, acc + L, kRows ? out[u][v] : out[v][u]);
    }
  });
}

// out = a · in · aᵀ, every transform's form (a: N×K, in: K×K, out: N×N).
template <const auto& a, typename T, size_t K, size_t N>
inline void transform(const Block<T, K, K>& in, Block<T, N, N>& out) {
  Block<T, N, K> half;
  apply<a, true>(in, half);
  apply<a, false>(half, out);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The tiling of an h×w image (the output's, equal to the input's here) over n samples; tile t
// is (sample, tile row, tile column) in that order. The passes run whole tile rows [t0, t1) at
// a time (kChunkBytes).
template <int M>
struct Tiling {
  int64_t n, h, w, th, tw;
  Tiling(int64_t n_, int64_t h_, int64_t w_)
      : n(n_), h(h_), w(w_), th(ceil_div(h_, M)), tw(ceil_div(w_, M)) {}
  int64_t tiles() const { return n * th * tw; }
  int64_t plane() const { return h * w; }
  // A strip of the input's tile row: α rows of its tiles' columns and a column of padding
  // either side, L channels at each pixel (load_strip; the output gradient's m rows fit too);
  // one per thread.
  int64_t strip_width() const { return tw * M + 2; }
  int64_t strip_size() const { return (M + 2) * strip_width() * L; }
  // Tile t's sample and first output row and column.
  void origin(int64_t t, int64_t& s, int64_t& y, int64_t& x) const {
    s = t / (th * tw);
    y = t % (th * tw) / tw * M;
    x = t % tw * M;
  }
};

// strip[r][c][l] = channel l's pixel (y0 + r, x0 + c) for R rows and sw columns, channels last,
// of `lanes` channels whose planes start at p, `plane` apart; zeros outside the h×w image and in
// the lanes past the last channel. A tile row's patches are then whole-vector loads from this
// strip, which gathers each pixel from its plane once, not once for every tile that reads it (and
// not into a vector that is read back at once, which stalls on store forwarding).
template <typename T>
void load_strip(const T* p, int64_t plane, int lanes, int64_t h, int64_t w, int64_t y0,
                int64_t x0, int R, int64_t sw, T* strip) {
  const int64_t c_begin = std::clamp<int64_t>(-x0, 0, sw);
  const int64_t c_end = std::clamp<int64_t>(w - x0, 0, sw);
  if (lanes < L) std::fill(strip, strip + R * sw * L, T(0));
  for (int r = 0; r < R; ++r) {
    T* row = strip + r * sw * L;
    const int64_t y = y0 + r;
    if (y < 0 || y >= h) {
      std::fill(row, row + sw * L, T(0));
      continue;
    }
    std::fill(row, row + c_begin * L, T(0));
    std::fill(row + c_end * L, row + sw * L, T(0));
    for (int l = 0; l < lanes; ++l) {
      const T* q = p + l * plane + y * w + x0;
      for (int64_t c = c_begin; c < c_end; ++c) row[c * L + l] = q[c];
    }
  }
}

// d = the R×R patch of a strip (sw columns) from column x on.
template <int R, typename T>
inline void patch_of_strip(const T* strip, int64_t sw, int64_t x, Block<T, R, R>& d) {
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < R; ++c) copy_lanes(strip + (r * sw + x + c) * L, L, d[r][c]);
}

// Writes block b (A×A positions of `lanes` channels) to X[ξ][t][c0..], X being [α²][tiles][C].
template <int A, typename T>
inline void store_positions(const Block<T, A, A>& b, int lanes, int64_t tiles, int64_t C,
                            int64_t t, int64_t c0, T* X) {
  for (int i = 0; i < A; ++i)
    for (int j = 0; j < A; ++j)
      copy_lanes(b[i][j], lanes, X + ((i * A + j) * tiles + t) * C + c0);
}

// V[ξ][t - t0][c] = (Bᵀ d B)[ξ] for tiles t0 <= t < t1 (whole tile rows) and each channel c of
// src [n, C, h, w], where d is the tile's α×α input patch (one pixel of padding, zeros outside
// the image). `strips` holds strip_size(tl) values for each thread of the team.
template <int M, typename T>
void transform_input(const Tiling<M>& tl, int64_t C, const T* src, int64_t t0, int64_t t1,
                     T* strips, T* V) {
  constexpr int A = Tile<M>::kAlpha;
  const int64_t plane = tl.plane(), blocks = ceil_div(C, L), sw = tl.strip_width();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t row = t0 / tl.tw; row < t1 / tl.tw; ++row)
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const int64_t c0 = cb * L, s = row / tl.th, y = row % tl.th * M;
      const int lanes = static_cast<int>(std::min<int64_t>(L, C - c0));
      T* strip = strips + omp_get_thread_num() * tl.strip_size();
      load_strip(src + (s * C + c0) * plane, plane, lanes, tl.h, tl.w, y - 1, -1, A, sw, strip);
      for (int64_t tx = 0; tx < tl.tw; ++tx) {
        Block<T, A, A> d, v;
        patch_of_strip<A>(strip, sw, tx * M, d);
        transform<Tile<M>::BT>(d, v);
        store_positions<A>(v, lanes, t1 - t0, C, row * tl.tw + tx - t0, c0, V);
      }
    }
}

// Y[ξ][t - t0][c] = (A dy Aᵀ)[ξ] for tiles t0 <= t < t1 (whole tile rows) and each channel c of
// dy [n, C, h, w], where dy is the tile's m×m outputs (zeros past the image's edge).
template <int M, typename T>
void transform_output_grad(const Tiling<M>& tl, int64_t C, const T* dy, int64_t t0, int64_t t1,
                           T* strips, T* Y) {
  constexpr int A = Tile<M>::kAlpha;
  static constexpr Mat<A, M> kA = transpose(Tile<M>::AT);
  const int64_t plane = tl.plane(), blocks = ceil_div(C, L), sw = tl.strip_width();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t row = t0 / tl.tw; row < t1 / tl.tw; ++row)
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const int64_t c0 = cb * L, s = row / tl.th, y = row % tl.th * M;
      const int lanes = static_cast<int>(std::min<int64_t>(L, C - c0));
      T* strip = strips + omp_get_thread_num() * tl.strip_size();
      load_strip(dy + (s * C + c0) * plane, plane, lanes, tl.h, tl.w, y, 0, M, sw, strip);
      for (int64_t tx = 0; tx < tl.tw; ++tx) {
        Block<T, M, M> d;
        Block<T, A, A> v;
        patch_of_strip<M>(strip, sw, tx * M, d);
        transform<kA>(d, v);
        store_positions<A>(v, lanes, t1 - t0, C, row * tl.tw + tx - t0, c0, Y);
      }
    }
}

// The tiles t0 <= t < t1 of dst [n, C, h, w] = (Aᵀ X A) per tile, plus bias[c] (bias may be
// null), from X[ξ][t - t0][c].
template <int M, typename T>
void transform_output(const Tiling<M>& tl, int64_t C, const T* X, const T* bias, int64_t t0,
                      int64_t t1, T* dst) {
  constexpr int A = Tile<M>::kAlpha;
  const int64_t plane = tl.plane(), blocks = ceil_div(C, L), count = t1 - t0;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t t = t0; t < t1; ++t)
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const int64_t c0 = cb * L;
      const int lanes = static_cast<int>(std::min<int64_t>(L, C - c0));
      Block<T, A, A> xb;
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j)
          copy_lanes(X + ((i * A + j) * count + t - t0) * C + c0, lanes, xb[i][j], true);
      Block<T, M, M> out;
      transform<Tile<M>::AT>(xb, out);
      int64_t s, y, x;
      tl.origin(t, s, y, x);
      const int rows = static_cast<int>(std::min<int64_t>(M, tl.h - y));
      const int cols = static_cast<int>(std::min<int64_t>(M, tl.w - x));
      for (int l = 0; l < lanes; ++l) {
        const T b = bias != nullptr ? bias[c0 + l] : T(0);
        T* q = dst + (s * C + c0 + l) * plane + y * tl.w + x;
        for (int r = 0; r < rows; ++r)
          for (int cx = 0; cx < cols; ++cx) q[r * tl.w + cx] = out[r][cx][l] + b;
      }
    }
}

// Where weight (p, q, ky, kx) of a [P, Q, 3, 3] view lies in a weight tensor: p·sp + q·sq +
// base + ky·sky + kx·skx. The forward reads w[co][ci] as is; the input gradient reads it
// transposed and turned 180° (base 8, taps stepping backwards).
struct WeightView {
  int64_t P, Q, sp, sq, base, sky, skx;
};

// U[ξ][q][p] = (G g Gᵀ)[ξ] for each 3x3 kernel g = view(p, q). The lanes are L consecutive p;
// q runs innermost so that each lane walks its weights in order (the forward's lanes are
// output channels, Ci·9 floats apart: across q they would touch L pages per load).
template <int M, typename T>
void transform_weights(const WeightView& wv, const T* w, T* U) {
  constexpr int A = Tile<M>::kAlpha;
  const int64_t pq = wv.P * wv.Q;
#pragma omp parallel for schedule(static)
  for (int64_t p0 = 0; p0 < wv.P; p0 += L)
    for (int64_t q = 0; q < wv.Q; ++q) {
      const int lanes = static_cast<int>(std::min<int64_t>(L, wv.P - p0));
      Block<T, 3, 3> g;
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          const T* src = w + p0 * wv.sp + q * wv.sq + wv.base + ky * wv.sky + kx * wv.skx;
          for (int l = 0; l < L; ++l) g[ky][kx][l] = l < lanes ? src[l * wv.sp] : T(0);
        }
      Block<T, A, A> u;
      transform<Tile<M>::G>(g, u);
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j)
          copy_lanes(u[i][j], lanes, U + (i * A + j) * pq + q * wv.P + p0);
    }
}

// dw[co][ci] = Gᵀ Z G from Z[ξ][co][ci].
template <int M, typename T>
void finish_weight_grad(int64_t co, int64_t ci, const T* Z, T* dw) {
  constexpr int A = Tile<M>::kAlpha;
  static constexpr Mat<3, A> kGT = transpose(Tile<M>::G);
  const int64_t pq = co * ci;
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < co; ++o)
    for (int64_t i0 = 0; i0 < ci; i0 += L) {
      const int lanes = static_cast<int>(std::min<int64_t>(L, ci - i0));
      Block<T, A, A> z;
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) {
          copy_lanes(Z + (i * A + j) * pq + o * ci + i0, lanes, z[i][j], true);
        }
      Block<T, 3, 3> k;
      transform<kGT>(z, k);
      for (int l = 0; l < lanes; ++l) {
        T* dst = dw + (o * ci + i0 + l) * 9;
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) dst[ky * 3 + kx] = k[ky][kx][l];
      }
    }
}

// Row-major c = op(a) · b + beta · c, one thread.
void gemm(bool ta, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
void gemm(bool ta, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// c[ξ] (rows × cols) = op(a[ξ]) · b[ξ] (inner dimension k), plus c[ξ] if `add`, for the `count`
// positions, every matrix dense and row-major; op(a) = aᵀ when ta (a[ξ] is then k × rows). Rows
// go in blocks of
// kRowBlock so that large layers give the team more tasks than positions; a fixed block (not
// one sized by the team) keeps the results independent of the thread count.
constexpr int64_t kRowBlock = 128;

template <typename T>
void batched_gemm(int count, bool ta, int64_t rows, int64_t cols, int64_t k, const T* a,
                  const T* b, bool add, T* c) {
  const int64_t blocks = ceil_div(rows, kRowBlock), tasks = count * blocks;
  const int64_t lda = ta ? rows : k;
#pragma omp parallel for schedule(dynamic)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t xi = t / blocks, r0 = (t % blocks) * kRowBlock;
    const int64_t r1 = std::min(rows, r0 + kRowBlock);
    const T* ax = a + xi * rows * k + (ta ? r0 : r0 * k);
    gemm(ta, r1 - r0, cols, k, ax, lda, b + xi * k * cols, cols, add ? T(1) : T(0),
         c + xi * rows * cols + r0 * cols, cols);
  }
}

// Tiles per pass: the transformed tiles of a pass (α² values per tile and channel, in and out)
// stay within this budget, so that they are still in cache for the GEMMs and the transform
// after them, and scratch does not grow with the batch; but never fewer than kMinChunk tiles,
// the fewest the GEMMs run well on. Fixed by the shape alone, not by the team, so results do
// not depend on the thread count.
constexpr int64_t kChunkBytes = int64_t{16} << 20;
constexpr int64_t kMinChunk = 128;

template <int M, typename T>
int64_t chunk_tiles(const Tiling<M>& tl, int64_t channels) {
  constexpr int64_t A2 = Tile<M>::kAlpha * Tile<M>::kAlpha;
  const int64_t fit = kChunkBytes / (A2 * channels * static_cast<int64_t>(sizeof(T)));
  // Whole tile rows: enough for kMinChunk tiles, more where the budget holds more.
  const int64_t rows = tl.n * tl.th, chunk = std::max(ceil_div(kMinChunk, tl.tw), fit / tl.tw);
  // Equal chunks rather than full ones and a remainder.
  return ceil_div(rows, ceil_div(rows, chunk)) * tl.tw;
}

// Scratch for a pass: `fixed` values, then each thread's strip.
template <int M, typename T>
T* pass_scratch(const Tiling<M>& tl, int64_t fixed, T*& strips) {
  T* base = thread_scratch().get<T>(fixed + omp_get_max_threads() * tl.strip_size());
  strips = base + fixed;
  return base;
}

// A 3x3 padding-1 convolution of src [n, cin, h, w] into dst [n, cout, h, w] with the weights
// seen through wv (P = cout, Q = cin).
template <int M, typename T>
void convolve(const Tiling<M>& tl, int64_t cin, int64_t cout, const T* src, const WeightView& wv,
              const T* w, const T* bias, T* dst) {
  constexpr int A2 = Tile<M>::kAlpha * Tile<M>::kAlpha;
  const int64_t tiles = tl.tiles(), chunk = chunk_tiles<M, T>(tl, cin + cout);
  T* strips;
  T* U = pass_scratch(tl, A2 * (cin * cout + chunk * (cin + cout)), strips);
  T* V = U + A2 * cin * cout;
  T* X = V + A2 * chunk * cin;
  transform_weights<M>(wv, w, U);
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t t1 = std::min(tiles, t0 + chunk);
    transform_input(tl, cin, src, t0, t1, strips, V);
    batched_gemm(A2, false, t1 - t0, cout, cin, V, U, false, X);  // X[ξ] = V[ξ] · U[ξ]
    transform_output(tl, cout, X, bias, t0, t1, dst);
  }
}

template <int M, typename T>
void weight_grad(const Conv3x3Shape& s, const T* x, const T* dy, T* dw) {
  constexpr int A2 = Tile<M>::kAlpha * Tile<M>::kAlpha;
  const Tiling<M> tl(s.n, s.h, s.w);
  const int64_t tiles = tl.tiles(), chunk = chunk_tiles<M, T>(tl, s.ci + s.co);
  T* strips;
  T* Z = pass_scratch(tl, A2 * (s.co * s.ci + chunk * (s.ci + s.co)), strips);
  T* V = Z + A2 * s.co * s.ci;
  T* Y = V + A2 * chunk * s.ci;
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t t1 = std::min(tiles, t0 + chunk);
    transform_input(tl, s.ci, x, t0, t1, strips, V);
    transform_output_grad(tl, s.co, dy, t0, t1, strips, Y);
    batched_gemm(A2, true, s.co, s.ci, t1 - t0, Y, V, t0 > 0, Z);  // Z[ξ] += Y[ξ]ᵀ · V[ξ]
  }
  finish_weight_grad<M>(s.co, s.ci, Z, dw);
}

}  // namespace

int winograd_tile(const Conv3x3Shape& s) {
  // Measured on AVX2 against oneDNN's direct kernels (bench_cpu_conv_gemm --winograd under
  // ONEDNN_MAX_CPU_ISA=AVX2; docs/benchmarks.md): 1.1-2.2x from 64 channels either side and 32
  // 4x4 tiles up; 32 channels or 16 tiles lose (0.7-0.9x forward), the transforms' memory
  // traffic then outweighing the GEMMs' savings.
  if (std::min(s.ci, s.co) < 64) return 0;
  return s.n * ceil_div(s.h, 4) * ceil_div(s.w, 4) >= 32 ? 4 : 0;
}

template <typename T>
void winograd_conv3x3_forward(int m, const Conv3x3Shape& s, const T* x, const T* w,
                              const T* bias, T* y) {
  const WeightView wv{s.co, s.ci, s.ci * 9, 9, 0, 3, 1};
  if (m == 2) return convolve(Tiling<2>(s.n, s.h, s.w), s.ci, s.co, x, wv, w, bias, y);
  convolve(Tiling<4>(s.n, s.h, s.w), s.ci, s.co, x, wv, w, bias, y);
}

template <typename T>
void winograd_conv3x3_input_grad(int m, const Conv3x3Shape& s, const T* w, const T* dy, T* dx) {
  const WeightView wv{s.ci, s.co, 9, s.ci * 9, 8, -3, -1};
  const T* none = nullptr;
  if (m == 2) return convolve(Tiling<2>(s.n, s.h, s.w), s.co, s.ci, dy, wv, w, none, dx);
  convolve(Tiling<4>(s.n, s.h, s.w), s.co, s.ci, dy, wv, w, none, dx);
}

template <typename T>
void winograd_conv3x3_weight_grad(int m, const Conv3x3Shape& s, const T* x, const T* dy, T* dw) {
  if (m == 2) return weight_grad<2>(s, x, dy, dw);
  weight_grad<4>(s, x, dy, dw);
}

template void winograd_conv3x3_forward(int, const Conv3x3Shape&, const float*, const float*,
                                       const float*, float*);
template void winograd_conv3x3_forward(int, const Conv3x3Shape&, const double*, const double*,
                                       const double*, double*);
template void winograd_conv3x3_input_grad(int, const Conv3x3Shape&, const float*, const float*,
                                          float*);
template void winograd_conv3x3_input_grad(int, const Conv3x3Shape&, const double*, const double*,
                                          double*);
template void winograd_conv3x3_weight_grad(int, const Conv3x3Shape&, const float*, const float*,
                                           float*);
template void winograd_conv3x3_weight_grad(int, const Conv3x3Shape&, const double*,
                                           const double*, double*);

}  // namespace s2dm::cpu
