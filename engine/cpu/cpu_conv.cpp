// CPU 2-D convolution (cross-correlation, NCHW) forward and backward. Float32 runs on oneDNN
// (conv_onednn.h) where it applies, or, for 3x3 stride-1 padding-1 layers below AVX-512, on
// s2dm's Winograd kernels where they pay (conv3x3_winograd.h); otherwise, and always in float64,
// im2col + OpenBLAS GEMM,
// except float32 3x3 stride-1 padding-1 convolutions of 16- and 32-wide images, whose forward and
// input gradient run the direct kernel of conv3x3_direct.cpp (about 1.3-1.8x the GEMM path there).
//
// Owns CpuBackend::conv2d_forward / conv2d_backward. Per sample n, with K = Ci·kh·kw and
// P = Ho·Wo output positions, col[n] is the [K, P] im2col matrix of x[n] and
//   y[n]  = W[Co, K] · col[n]          (+ bias per output channel)
//   dW    = Σ_n dy[n][Co, P] · col[n]ᵀ
//   dx[n] = col2im(Wᵀ · dy[n])
// A 1x1, stride-1, unpadded convolution has col[n] = x[n] and skips the copy entirely.
//
// Strategy (measured on 2 cores, see "CPU conv2d and GEMM" in docs/benchmarks.md): the work is
// cut into independent tasks (sample × block of output columns for y and dW, sample × block of
// input channels for dx), the tasks are spread over one OpenMP team, and every GEMM inside a task
// runs single-threaded. The alternative, one sample at a time with parallel im2col and
// OpenBLAS's own threads for the GEMM, ran at about half the speed, as if on one core: OpenMP
// workers spin-waiting after each im2col region compete with the OpenBLAS workers for the same
// cores. OpenBLAS (pthread build) is therefore set to one thread for the duration of a call and
// restored afterwards.
//
// Invariants:
// - a column block is a whole sample unless its im2col scratch would exceed kScratchBytes, or
//   there are too few samples to keep every thread busy; whole samples measured faster than
//   L2-sized blocks because OpenBLAS re-blocks for the cache itself and fewer, longer blocks cut
//   the repacking of W and the per-row im2col work;
// - scratch is one buffer per calling thread (thread_local, it only grows), carved into a slice
//   per OpenMP thread before each parallel region: steady-state training allocates nothing here,
//   and nothing inside a parallel region can throw;
// - for stride-1 convolutions that keep the width (3x3 padding 1, ...) a tap row of im2col is
//   one shifted copy of the input plane plus zeroed padding columns, and col2im the matching add;
// - every element of y and dx is written by exactly one task, so their scheduling is free
//   (dynamic, which tolerates a busy core); dW is summed into one private buffer per thread over a
//   static schedule and reduced in thread order, so it is deterministic for a given thread count.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>

#include "engine/cpu/conv3x3_direct.h"
#include "engine/cpu/conv3x3_winograd.h"
#include "engine/cpu/conv_onednn.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/scratch.h"

namespace s2dm {

namespace {

// Target size of one task's im2col / column-gradient scratch block.
constexpr int64_t kScratchBytes = int64_t{4} << 20;
// Narrower blocks than this make the GEMMs inefficient.
constexpr int64_t kMinBlockCols = 64;
// Below this many multiply-adds per call the OpenMP team is not worth waking.
constexpr int64_t kParallelMacs = 1 << 18;

struct Geometry {
  int64_t n = 0, ci = 0, h = 0, w = 0;
  int64_t co = 0, kh = 0, kw = 0;
  int64_t ho = 0, wo = 0;
  int64_t stride = 1, pad_h = 0, pad_w = 0;

  int64_t k() const { return ci * kh * kw; }
  int64_t in_plane() const { return h * w; }
  int64_t out_plane() const { return ho * wo; }
  // 1x1 stride-1 unpadded: x[n] viewed as [Ci, H·W] already is the im2col matrix.
  bool direct() const { return kh == 1 && kw == 1 && stride == 1 && pad_h == 0 && pad_w == 0; }
  int64_t macs() const { return n * co * k() * out_plane(); }
  // The direct float32 kernel's case (forward and input gradient): 3x3, stride 1, padding 1, a
  // width it vectorises.
  bool direct3x3() const {
    return kh == 3 && kw == 3 && stride == 1 && pad_h == 1 && pad_w == 1 &&
           cpu::conv3x3_direct_handles(w);
  }
};

Geometry geometry_of(const Tensor& x, const Tensor& w, Conv2dParams p) {
  S2DM_CHECK(x.dim() == 4 && w.dim() == 4 && x.size(1) == w.size(1),
             "conv2d backend: bad operands x {} w {}", x.str(), w.str());
  Geometry g;
  g.n = x.size(0), g.ci = x.size(1), g.h = x.size(2), g.w = x.size(3);
  g.co = w.size(0), g.kh = w.size(2), g.kw = w.size(3);
  g.stride = p.stride, g.pad_h = p.pad_h, g.pad_w = p.pad_w;
  S2DM_CHECK(p.stride >= 1 && p.pad_h >= 0 && p.pad_w >= 0 && g.h + 2 * g.pad_h >= g.kh &&
                 g.w + 2 * g.pad_w >= g.kw,
             "conv2d backend: bad geometry x {} w {} stride {} pad ({}, {})", x.str(), w.str(),
             p.stride, p.pad_h, p.pad_w);
  g.ho = (g.h + 2 * g.pad_h - g.kh) / g.stride + 1;
  g.wo = (g.w + 2 * g.pad_w - g.kw) / g.stride + 1;
  // cblas takes int dimensions and leading dimensions.
  S2DM_CHECK(g.k() < INT_MAX && g.out_plane() < INT_MAX && g.in_plane() < INT_MAX &&
                 g.co < INT_MAX,
             "conv2d: x {} w {} is too large for 32-bit BLAS dimensions", x.str(), w.str());
  return g;
}

// Row-major GEMM: c = alpha · op(a) · op(b) + beta · c.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// Keeps a pthread-built OpenBLAS single-threaded while an OpenMP team runs GEMMs, restoring the
// count afterwards. An OpenMP-built OpenBLAS already runs single-threaded inside a parallel region,
// and there openblas_set_num_threads would change OpenMP's own thread count: leave it alone.
class BlasSingleThreaded {
 public:
  explicit BlasSingleThreaded(bool active)
      : prev_(active && openblas_get_parallel() != 2 ? openblas_get_num_threads() : 1) {
    if (prev_ != 1) openblas_set_num_threads(1);
  }
  ~BlasSingleThreaded() {
    if (prev_ != 1) openblas_set_num_threads(prev_);
  }
  BlasSingleThreaded(const BlasSingleThreaded&) = delete;
  BlasSingleThreaded& operator=(const BlasSingleThreaded&) = delete;

 private:
  int prev_;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// `count` rounded up to whole 64-byte lines: slices stay aligned and threads never share a line.
template <typename T>
int64_t padded(int64_t count) {
  constexpr int64_t line = 64 / sizeof(T);
  return ceil_div(count, line) * line;
}

// Number of OpenMP threads worth using for `macs` multiply-adds split into `tasks` tasks.
int team_size(int64_t macs, int64_t tasks) {
  if (macs < kParallelMacs) return 1;
  return static_cast<int>(std::clamp<int64_t>(tasks, 1, omp_get_max_threads()));
}

// Splits `len` columns into blocks: each at most `max_cols` wide (scratch budget), and, when
// there are few samples, enough blocks per sample that `threads` threads get balanced work.
int64_t block_width(int64_t samples, int64_t len, int64_t max_cols, int threads) {
  int64_t blocks = ceil_div(len, std::max(max_cols, kMinBlockCols));
  const int64_t want_tasks = threads > 1 ? 4 * threads : 1;
  const int64_t max_blocks = std::max(blocks, ceil_div(len, kMinBlockCols));
  if (samples * blocks < want_tasks) {
    const int64_t per_sample = ceil_div(want_tasks, std::max<int64_t>(samples, 1));
    blocks = std::min(max_blocks, std::max(blocks, per_sample));
    // A task count that is a multiple of the team size leaves no thread idle at the end.
    while ((samples * blocks) % threads != 0 && blocks < max_blocks) ++blocks;
  }
  return ceil_div(len, blocks);
}

// Valid output-column range [lo, hi) for kernel column kx: 0 <= ox·s - pad_w + kx < W.
struct ColRange {
  int64_t lo, hi;
};
ColRange valid_cols(const Geometry& g, int64_t kx) {
  const int64_t first = g.pad_w - kx;           // smallest ox·s allowed
  const int64_t last = g.w - 1 + g.pad_w - kx;  // largest ox·s allowed
  const int64_t lo = std::min(first <= 0 ? 0 : ceil_div(first, g.stride), g.wo);
  const int64_t hi = last < 0 ? 0 : std::min(g.wo, last / g.stride + 1);
  return {lo, std::max(hi, lo)};
}

// Output positions [p0, p1) as whole or partial output rows: row oy covers columns
// [ox_begin(oy), ox_end(oy)). Walking rows avoids a division per segment.
struct RowSpan {
  int64_t oy_first, oy_last, first_ox, last_ox_end, wo;
  RowSpan(const Geometry& g, int64_t p0, int64_t p1)
      : oy_first(p0 / g.wo), oy_last((p1 - 1) / g.wo), first_ox(p0 % g.wo),
        last_ox_end((p1 - 1) % g.wo + 1), wo(g.wo) {}
  int64_t ox_begin(int64_t oy) const { return oy == oy_first ? first_ox : 0; }
  int64_t ox_end(int64_t oy) const { return oy == oy_last ? last_ox_end : wo; }
};

// Stride 1 with Wo == W (e.g. 3x3 padding 1, 1x7 padding (0, 3)): output position p = oy·W + ox
// of tap (ky, kx) reads plane element p + shift, shift = (ky - pad_h)·W + (kx - pad_w), so a whole tap row is one
// shifted contiguous range [begin, end) of positions. Positions outside it read zero padding
// (rows above/below the plane), and so do the `left` first and `right` last columns of every
// row inside it, where p + shift would wrap into the neighbouring row.
struct SameWidthTap {
  int64_t begin, end, shift, left, right;
};

SameWidthTap same_width_tap(const Geometry& g, int64_t p0, int64_t p1, int64_t ky, int64_t kx) {
  const int64_t w = g.w;
  SameWidthTap t;
  t.shift = (ky - g.pad_h) * w + (kx - g.pad_w);
  // Rows with 0 <= oy + ky - pad_h < H, then trimmed so p + shift stays inside the plane (what
  // that trims are padding-column positions).
  const int64_t vlo = std::clamp((g.pad_h - ky) * w, p0, p1);
  const int64_t vhi = std::clamp((g.h + g.pad_h - ky) * w, vlo, p1);
  t.begin = std::clamp(-t.shift, vlo, vhi);
  t.end = std::clamp(g.in_plane() - t.shift, t.begin, vhi);
  t.left = std::max<int64_t>(0, g.pad_w - kx);
  t.right = std::max<int64_t>(0, kx - g.pad_w);
  return t;
}

// Calls zero(p) for every position in [t.begin, t.end) that lies in a padding column.
template <typename F>
void for_each_padding_column(const Geometry& g, const SameWidthTap& t, F&& zero) {
  const int64_t w = g.w;
  auto column = [&](int64_t j) {
    int64_t p = t.begin / w * w + j;
    if (p < t.begin) p += w;
    for (; p < t.end; p += w) zero(p);
  };
  for (int64_t j = 0; j < t.left; ++j) column(j);
  for (int64_t j = w - t.right; j < w; ++j) column(j);
}

// col[r, p - p0] for rows r = (c, ky, kx) over all input channels and positions [p0, p1);
// taps that fall in the zero padding read as 0.
template <typename T>
void im2col(const T* x, const Geometry& g, int64_t p0, int64_t p1, T* col) {
  if (g.stride == 1 && g.wo == g.w) {
    const int64_t width = p1 - p0;
    T* row = col;  // row[p - p0] is position p of the current tap row
    for (int64_t c = 0; c < g.ci; ++c) {
      const T* plane = x + c * g.in_plane();
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        for (int64_t kx = 0; kx < g.kw; ++kx, row += width) {
          const SameWidthTap t = same_width_tap(g, p0, p1, ky, kx);
          std::fill(row, row + (t.begin - p0), T(0));
          if (t.end > t.begin) {
            std::memcpy(row + (t.begin - p0), plane + (t.begin + t.shift),
                        static_cast<size_t>(t.end - t.begin) * sizeof(T));
          }
          std::fill(row + (t.end - p0), row + width, T(0));
          for_each_padding_column(g, t, [&](int64_t p) { row[p - p0] = T(0); });
        }
      }
    }
    return;
  }
  const RowSpan span(g, p0, p1);
  const int64_t s = g.stride;
  T* d = col;  // rows are written back to back, each p1 - p0 long
  for (int64_t c = 0; c < g.ci; ++c) {
    const T* plane = x + c * g.in_plane();
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const ColRange v = valid_cols(g, kx);
        for (int64_t oy = span.oy_first; oy <= span.oy_last; ++oy) {
          const int64_t ox0 = span.ox_begin(oy), ox1 = span.ox_end(oy), n = ox1 - ox0;
          const int64_t iy = oy * s - g.pad_h + ky;
          if (iy < 0 || iy >= g.h) {
            for (int64_t i = 0; i < n; ++i) d[i] = T(0);
          } else {
            const int64_t a = std::clamp(v.lo, ox0, ox1), b = std::clamp(v.hi, a, ox1);
            for (int64_t i = 0; i < a - ox0; ++i) d[i] = T(0);
            if (b > a) {
              const T* src = plane + iy * g.w + (a * s - g.pad_w + kx);
              T* out = d + (a - ox0);
              if (s == 1) {
#pragma omp simd
                for (int64_t i = 0; i < b - a; ++i) out[i] = src[i];
              } else {
                for (int64_t i = 0; i < b - a; ++i) out[i] = src[i * s];
              }
            }
            for (int64_t i = b - ox0; i < n; ++i) d[i] = T(0);
          }
          d += n;
        }
      }
    }
  }
}

// dx[c] += col2im(dcol) for channels [c0, c1) (dcol row 0 is channel c0) and positions [p0, p1).
template <typename T>
void col2im_add(T* dcol, const Geometry& g, int64_t c0, int64_t c1, int64_t p0, int64_t p1,
                T* dx) {
  if (g.stride == 1 && g.wo == g.w) {
    // Zero the padding-column taps in dcol (scratch) first, so each tap row is one shifted add.
    const int64_t width = p1 - p0;
    T* row = dcol;
    for (int64_t c = c0; c < c1; ++c) {
      T* plane = dx + c * g.in_plane();
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        for (int64_t kx = 0; kx < g.kw; ++kx, row += width) {
          const SameWidthTap t = same_width_tap(g, p0, p1, ky, kx);
          if (t.end <= t.begin) continue;
          for_each_padding_column(g, t, [&](int64_t p) { row[p - p0] = T(0); });
          T* out = plane + (t.begin + t.shift);
          const T* in = row + (t.begin - p0);
#pragma omp simd
          for (int64_t i = 0; i < t.end - t.begin; ++i) out[i] += in[i];
        }
      }
    }
    return;
  }
  const RowSpan span(g, p0, p1);
  const int64_t s = g.stride;
  const T* d = dcol;
  for (int64_t c = c0; c < c1; ++c) {
    T* plane = dx + c * g.in_plane();
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const ColRange v = valid_cols(g, kx);
        for (int64_t oy = span.oy_first; oy <= span.oy_last; ++oy) {
          const int64_t ox0 = span.ox_begin(oy), ox1 = span.ox_end(oy);
          const int64_t iy = oy * s - g.pad_h + ky;
          const int64_t a = std::clamp(v.lo, ox0, ox1), b = std::clamp(v.hi, a, ox1);
          if (iy >= 0 && iy < g.h && b > a) {
            T* dst = plane + iy * g.w + (a * s - g.pad_w + kx);
            const T* in = d + (a - ox0);
            if (s == 1) {
#pragma omp simd
              for (int64_t i = 0; i < b - a; ++i) dst[i] += in[i];
            } else {
              for (int64_t i = 0; i < b - a; ++i) dst[i * s] += in[i];
            }
          }
          d += ox1 - ox0;
        }
      }
    }
  }
}

template <typename T>
void forward_impl(const Geometry& g, const T* x, const T* w, const T* bias, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (g.direct3x3()) return cpu::conv3x3_direct_forward(x, w, bias, g.n, g.ci, g.co, g.h, g.w, y);
  }
  const int64_t k = g.k(), plane = g.out_plane();
  const int max_team = team_size(g.macs(), g.n * ceil_div(plane, kMinBlockCols));
  const int64_t bw = block_width(g.n, plane, kScratchBytes / static_cast<int64_t>(sizeof(T) * k),
                                 max_team);
  const int64_t blocks = ceil_div(plane, bw), tasks = g.n * blocks;
  const int team = static_cast<int>(std::clamp<int64_t>(tasks, 1, max_team));
  const int64_t slice = g.direct() ? 0 : padded<T>(k * bw);
  T* scratch = cpu::thread_scratch().get<T>(team * slice);
  BlasSingleThreaded blas_guard(team > 1);
#pragma omp parallel for schedule(dynamic) num_threads(team)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t n = t / blocks, p0 = (t % blocks) * bw, p1 = std::min(plane, p0 + bw);
    const T* xn = x + n * g.ci * g.in_plane();
    T* yn = y + n * g.co * plane;
    const T* src = xn + p0;
    int64_t ld = g.in_plane();
    if (!g.direct()) {
      T* col = scratch + omp_get_thread_num() * slice;
      im2col(xn, g, p0, p1, col);
      src = col;
      ld = p1 - p0;
    }
    gemm(false, false, g.co, p1 - p0, k, w, k, src, ld, T(0), yn + p0, plane);
    if (bias) {
      for (int64_t c = 0; c < g.co; ++c) {
        T* row = yn + c * plane;
        const T b = bias[c];
#pragma omp simd
        for (int64_t p = p0; p < p1; ++p) row[p] += b;
      }
    }
  }
}

template <typename T>
void weight_grad(const Geometry& g, const T* x, const T* dy, T* dw) {
  const int64_t k = g.k(), plane = g.out_plane(), wsize = g.co * k;
  const int max_team = team_size(g.macs(), g.n * ceil_div(plane, kMinBlockCols));
  const int64_t bw = block_width(g.n, plane, kScratchBytes / static_cast<int64_t>(sizeof(T) * k),
                                 max_team);
  const int64_t blocks = ceil_div(plane, bw), tasks = g.n * blocks;
  const int team = static_cast<int>(std::clamp<int64_t>(tasks, 1, max_team));
  // Thread 0 sums straight into dw; the others into private partials reduced below.
  const int64_t wslice = padded<T>(wsize), slice = g.direct() ? 0 : padded<T>(k * bw);
  T* partials = cpu::thread_scratch().get<T>((team - 1) * wslice + team * slice);
  T* cols = partials + (team - 1) * wslice;
  BlasSingleThreaded blas_guard(team > 1);
#pragma omp parallel num_threads(team)
  {
    const int tid = omp_get_thread_num();
    T* acc = tid == 0 ? dw : partials + (tid - 1) * wslice;
    std::fill(acc, acc + wsize, T(0));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t n = t / blocks, p0 = (t % blocks) * bw, p1 = std::min(plane, p0 + bw);
      const T* xn = x + n * g.ci * g.in_plane();
      const T* src = xn + p0;
      int64_t ld = g.in_plane();
      if (!g.direct()) {
        T* col = cols + tid * slice;
        im2col(xn, g, p0, p1, col);
        src = col;
        ld = p1 - p0;
      }
      gemm(false, true, g.co, k, p1 - p0, dy + n * g.co * plane + p0, plane, src, ld, T(1), acc,
           k);
    }
#pragma omp for schedule(static)
    for (int64_t i = 0; i < wsize; ++i) {
      T s = dw[i];
      for (int r = 0; r < team - 1; ++r) s += partials[r * wslice + i];
      dw[i] = s;
    }
  }
}

template <typename T>
void input_grad(const Geometry& g, const T* w, const T* dy, T* dx) {
  if constexpr (std::is_same_v<T, float>) {
    if (g.direct3x3()) return cpu::conv3x3_direct_input_grad(w, dy, g.n, g.ci, g.co, g.h, g.w, dx);
  }
  const int64_t k = g.k(), plane = g.out_plane(), kk = g.kh * g.kw;
  const int max_team = team_size(g.macs(), g.n * g.ci);
  // Channel blocks give independent dx planes; split channels only when samples are too few.
  const int64_t want_tasks = max_team > 1 ? 4 * max_team : 1;
  const int64_t cblocks =
      g.n >= want_tasks ? 1 : std::min(g.ci, ceil_div(want_tasks, std::max<int64_t>(g.n, 1)));
  const int64_t cw = ceil_div(g.ci, cblocks);
  const int64_t tasks = g.n * ceil_div(g.ci, cw), per_sample = ceil_div(g.ci, cw);
  const int team = static_cast<int>(std::clamp<int64_t>(tasks, 1, max_team));
  const int64_t bw = std::min(
      plane, std::max(kMinBlockCols, kScratchBytes / static_cast<int64_t>(sizeof(T) * cw * kk)));
  const int64_t slice = g.direct() ? 0 : padded<T>(cw * kk * bw);
  T* scratch = cpu::thread_scratch().get<T>(team * slice);
  BlasSingleThreaded blas_guard(team > 1);
#pragma omp parallel for schedule(dynamic) num_threads(team)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t n = t / per_sample, c0 = (t % per_sample) * cw, c1 = std::min(g.ci, c0 + cw);
    const T* dyn = dy + n * g.co * plane;
    T* dxn = dx + n * g.ci * g.in_plane();
    if (g.direct()) {
      gemm(true, false, c1 - c0, plane, g.co, w + c0, k, dyn, plane, T(0), dxn + c0 * plane,
           plane);
      continue;
    }
    std::fill(dxn + c0 * g.in_plane(), dxn + c1 * g.in_plane(), T(0));
    const int64_t rows = (c1 - c0) * kk;
    T* dcol = scratch + omp_get_thread_num() * slice;
    for (int64_t p0 = 0; p0 < plane; p0 += bw) {
      const int64_t p1 = std::min(plane, p0 + bw);
      gemm(true, false, rows, p1 - p0, g.co, w + c0 * kk, k, dyn + p0, plane, T(0), dcol, p1 - p0);
      col2im_add(dcol, g, c0, c1, p0, p1, dxn);
    }
  }
}

template <typename T>
void bias_grad(const Geometry& g, const T* dy, T* db) {
  const int64_t plane = g.out_plane();
#pragma omp parallel for schedule(static) if (g.n * g.co * plane > (1 << 16))
  for (int64_t c = 0; c < g.co; ++c) {
    double s = 0;
    for (int64_t n = 0; n < g.n; ++n) {
      const T* row = dy + (n * g.co + c) * plane;
      double rs = 0;
#pragma omp simd reduction(+ : rs)
      for (int64_t p = 0; p < plane; ++p) rs += static_cast<double>(row[p]);
      s += rs;
    }
    db[c] = static_cast<T>(s);
  }
}

// The geometry as conv_onednn.h takes it.
cpu::ConvGeometry onednn_geometry(const Geometry& g) {
  return {g.n, g.ci, g.h, g.w, g.co, g.kh, g.kw, g.ho, g.wo, g.stride, g.pad_h, g.pad_w};
}

}  // namespace

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                                Conv2dParams p) {
  const Geometry g = geometry_of(x, w, p);
  S2DM_CHECK(y.shape() == Shape({g.n, g.co, g.ho, g.wo}), "conv2d backend: output {} for x {} w {}",
             y.str(), x.str(), w.str());
  const int m = x.dtype() == DType::F32 ? cpu::s2dm_winograd_tile(onednn_geometry(g)) : 0;
  if (m != 0) {
    BlasSingleThreaded blas_guard(true);
    cpu::winograd_conv3x3_forward<float>(m, {g.n, g.ci, g.co, g.h, g.w}, x.data<float>(),
                                         w.data<float>(),
                                         bias.defined() ? bias.data<float>() : nullptr,
                                         y.data<float>());
    return;
  }
  if (x.dtype() == DType::F32 && cpu::onednn_conv_applies(onednn_geometry(g))) {
    cpu::onednn_conv_forward(onednn_geometry(g), x.data<float>(), w.data<float>(),
                             bias.defined() ? bias.data<float>() : nullptr, y.data<float>(),
                             x.impl()->storage);
    return;
  }
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    forward_impl<T>(g, x.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                    y.data<T>());
  });
}

void CpuBackend::conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx,
                                 Tensor& dw, Tensor& dbias, Conv2dParams p) {
  const Geometry g = geometry_of(x, w, p);
  S2DM_CHECK(dy.shape() == Shape({g.n, g.co, g.ho, g.wo}),
             "conv2d backend: output gradient {} for x {} w {}", dy.str(), x.str(), w.str());
  const int m = x.dtype() == DType::F32 ? cpu::s2dm_winograd_tile(onednn_geometry(g)) : 0;
  if (m != 0) {
    const cpu::Conv3x3Shape s{g.n, g.ci, g.co, g.h, g.w};
    BlasSingleThreaded blas_guard(true);
    if (dw.defined())
      cpu::winograd_conv3x3_weight_grad<float>(m, s, x.data<float>(), dy.data<float>(),
                                               dw.data<float>());
    if (dx.defined())
      cpu::winograd_conv3x3_input_grad<float>(m, s, w.data<float>(), dy.data<float>(),
                                              dx.data<float>());
    if (dbias.defined()) bias_grad<float>(g, dy.data<float>(), dbias.data<float>());
    return;
  }
  if (x.dtype() == DType::F32 && cpu::onednn_conv_applies(onednn_geometry(g))) {
    const auto out = [](Tensor& t) { return t.defined() ? t.data<float>() : nullptr; };
    cpu::onednn_conv_backward(onednn_geometry(g), x.data<float>(), w.data<float>(),
                              dy.data<float>(), out(dx), out(dw), out(dbias), x.impl()->storage);
    return;
  }
  cpu::dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (dw.defined()) weight_grad<T>(g, x.data<T>(), dy.data<T>(), dw.data<T>());
    if (dx.defined()) input_grad<T>(g, w.data<T>(), dy.data<T>(), dx.data<T>());
    if (dbias.defined()) bias_grad<T>(g, dy.data<T>(), dbias.data<T>());
  });
}

}  // namespace s2dm
