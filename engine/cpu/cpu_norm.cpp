// CPU group norm (optionally fused with SiLU), forward and backward.
//
// Group norm views x as [N, C, S] (S = product of the trailing dims, 1 when there are none), so
// the D = C/G channels of group g in sample n form one contiguous block of D·S elements. Forward
// writes y, mean [N,G] and rstd [N,G]. Backward reads those saved statistics, recomputes the SiLU
// pre-activation from them when the activation is fused (nothing else is kept from forward), and
// writes each of dx, dgamma, dbeta that is defined, overwriting it fully. Moments and backward
// sums accumulate in double so float32 results do not degrade with the group size. Both forward
// and backward run one OpenMP task per (n, g) pair.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/fast_math.h"
#include "engine/cpu/strided.h"

namespace s2dm {

namespace {

struct GnDims {
  int64_t n = 0, c = 0, s = 1, g = 1, d = 1;  // batch, channels, spatial, groups, channels/group
  int64_t group_elems() const { return d * s; }
};

GnDims gn_dims(const Tensor& x, int groups) {
  S2DM_CHECK(x.dim() >= 2 && groups > 0 && x.size(1) % groups == 0,
             "group_norm: x {} cannot be split into {} groups", x.str(), groups);
  GnDims dm;
  dm.n = x.size(0);
  dm.c = x.size(1);
  for (int64_t i = 2; i < x.dim(); ++i) dm.s *= x.size(i);
  dm.g = groups;
  dm.d = dm.c / groups;
  return dm;
}

template <typename T>
T sigmoid_of(T z) {
  return cpu::sigmoid_fast(z);
}

template <typename T>
void gn_forward(const T* x, const T* gamma, const T* beta, const GnDims& dm, double eps, bool silu,
                T* y, T* mean, T* rstd) {
  const int64_t ng = dm.n * dm.g, ge = dm.group_elems();
#pragma omp parallel for schedule(static) if (ng * ge > cpu::kParallelGrain)
  for (int64_t i = 0; i < ng; ++i) {
    const int64_t g = i % dm.g;
    const T* xg = x + i * ge;
    T* yg = y + i * ge;
    // Two passes over the (cache-resident) group: exact variance even when |mean| >> std.
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < ge; ++j) sum += static_cast<double>(xg[j]);
    const double mu_exact = sum / static_cast<double>(ge);
    double sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < ge; ++j) {
      const double t = static_cast<double>(xg[j]) - mu_exact;
      sq += t * t;
    }
    mean[i] = static_cast<T>(mu_exact);
    rstd[i] = static_cast<T>(1.0 / std::sqrt(sq / static_cast<double>(ge) + eps));
    // Use the stored (rounded) statistics so backward's recomputation sees the same values.
    const double mu = static_cast<double>(mean[i]), r = static_cast<double>(rstd[i]);
    for (int64_t cd = 0; cd < dm.d; ++cd) {
      const int64_t c = g * dm.d + cd;
      const double ar = r * (gamma ? static_cast<double>(gamma[c]) : 1.0);
      const T a = static_cast<T>(ar);
      const T b = static_cast<T>((beta ? static_cast<double>(beta[c]) : 0.0) - ar * mu);
      const T* xc = xg + cd * dm.s;
      T* yc = yg + cd * dm.s;
      if (silu) {
        for (int64_t j = 0; j < dm.s; ++j) {
          const T z = xc[j] * a + b;
          yc[j] = z * sigmoid_of(z);
        }
      } else {
        for (int64_t j = 0; j < dm.s; ++j) yc[j] = xc[j] * a + b;
      }
    }
  }
}

// Σ d·x and Σ d over one channel, in double.
template <typename T>
void channel_sums(const T* d, const T* x, int64_t n, double& s_dx, double& s_d) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t j = 0; j < n; ++j) {
    a += static_cast<double>(d[j]) * static_cast<double>(x[j]);
    b += static_cast<double>(d[j]);
  }
  s_dx = a;
  s_d = b;
}

// With g = γ·dY' (dY' = dY·silu'(pre) when fused, else dY), K = D·S and x̂ = (x − μ)·r:
//   dx = r·γ·dY' − (r/K)·Σg − (r/K)·x̂·Σ(g·x̂)
// and Σg, Σ(g·x̂) follow from the per-channel sums Σ dY'·x and Σ dY', which also give
//   dγ_c = Σ_n r·(Σ dY'·x − μ·Σ dY'),  dβ_c = Σ_n Σ dY'.
template <typename T>
void gn_backward(const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd,
                 const T* dy, const GnDims& dm, bool silu, T* dx, T* dgamma, T* dbeta) {
  const int64_t ng = dm.n * dm.g, ge = dm.group_elems();
  const bool want_affine = dgamma != nullptr || dbeta != nullptr;
  // Per-(n, c) Σ dY'·x and Σ dY', kept only when dgamma/dbeta need them.
  std::vector<double> sum_dx(want_affine ? static_cast<size_t>(dm.n * dm.c) : 0);
  std::vector<double> sum_d(sum_dx.size());
  const double inv_k = 1.0 / static_cast<double>(ge);
#pragma omp parallel for schedule(static) if (ng * ge > cpu::kParallelGrain)
  for (int64_t i = 0; i < ng; ++i) {
    const int64_t n = i / dm.g, g = i % dm.g;
    const double mu = static_cast<double>(mean[i]), r = static_cast<double>(rstd[i]);
    const T* xg = x + i * ge;
    const T* dyg = dy + i * ge;
    T* dxg = dx ? dx + i * ge : nullptr;
    double gsum_dx = 0, gsum_d = 0;  // Σ_c γ_c·(per-channel sums)
    for (int64_t cd = 0; cd < dm.d; ++cd) {
      const int64_t c = g * dm.d + cd;
      const double gm = gamma ? static_cast<double>(gamma[c]) : 1.0;
      const T* xc = xg + cd * dm.s;
      const T* dyc = dyg + cd * dm.s;
      double s_dx = 0, s_d = 0;
      if (silu) {
        const T a = static_cast<T>(r * gm);
        const T b = static_cast<T>((beta ? static_cast<double>(beta[c]) : 0.0) - r * gm * mu);
        const auto dprime = [&](int64_t j) {
          const T z = xc[j] * a + b;
          const T sg = sigmoid_of(z);
          return dyc[j] * sg * (T(1) + z * (T(1) - sg));
        };
        if (dxg) {
          // dY' is parked in dx so the second pass need not recompute sigmoids.
          T* dxc = dxg + cd * dm.s;
          for (int64_t j = 0; j < dm.s; ++j) dxc[j] = dprime(j);
          channel_sums(dxc, xc, dm.s, s_dx, s_d);
        } else {
          for (int64_t j = 0; j < dm.s; ++j) {
            const T d = dprime(j);
            s_dx += static_cast<double>(d) * static_cast<double>(xc[j]);
            s_d += static_cast<double>(d);
          }
        }
      } else {
        channel_sums(dyc, xc, dm.s, s_dx, s_d);
      }
      if (want_affine) {
        sum_dx[static_cast<size_t>(n * dm.c + c)] = s_dx;
        sum_d[static_cast<size_t>(n * dm.c + c)] = s_d;
      }
      gsum_dx += gm * s_dx;
      gsum_d += gm * s_d;
    }
    if (!dxg) continue;
    // Σ(g·x̂) = r·(gsum_dx − μ·gsum_d); written around (x − μ) to avoid cancelling large terms.
    const T c2 = static_cast<T>(r * r * r * (mu * gsum_d - gsum_dx) * inv_k);
    const T c3 = static_cast<T>(-r * gsum_d * inv_k);
    const T mu_t = static_cast<T>(mu);
    const T* dsrc = silu ? dxg : dyg;  // dY'
    for (int64_t cd = 0; cd < dm.d; ++cd) {
      const int64_t c = g * dm.d + cd;
      const T a = static_cast<T>(r * (gamma ? static_cast<double>(gamma[c]) : 1.0));
      const T* xc = xg + cd * dm.s;
      const T* dpc = dsrc + cd * dm.s;
      T* dxc = dxg + cd * dm.s;
      for (int64_t j = 0; j < dm.s; ++j) dxc[j] = a * dpc[j] + c2 * (xc[j] - mu_t) + c3;
    }
  }
  if (!want_affine) return;
  for (int64_t c = 0; c < dm.c; ++c) {
    double dg = 0, db = 0;
    for (int64_t n = 0; n < dm.n; ++n) {
      const int64_t i = n * dm.g + c / dm.d;
      const size_t nc = static_cast<size_t>(n * dm.c + c);
      dg += (sum_dx[nc] - static_cast<double>(mean[i]) * sum_d[nc]) * static_cast<double>(rstd[i]);
      db += sum_d[nc];
    }
    if (dgamma) dgamma[c] = static_cast<T>(dg);
    if (dbeta) dbeta[c] = static_cast<T>(db);
  }
}

template <typename T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

template <typename T>
T* mut_ptr_or_null(Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// x + channel_add[n, c] as a new tensor, or x itself without channel_add. The reference keeps
// this simple (one extra pass); the GPU kernels add on the fly.
Tensor shifted(const Tensor& x, const Tensor& channel_add, const GnDims& dm) {
  if (!channel_add.defined()) return x;
  S2DM_CHECK(channel_add.numel() == dm.n * dm.c, "group_norm: channel_add {} is not [N, C] for x {}",
             channel_add.str(), x.str());
  Tensor xs = Tensor::empty(x.shape(), x.dtype(), x.device());
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    const T* src = x.data<T>();
    const T* add = channel_add.data<T>();
    T* dst = xs.data<T>();
#pragma omp parallel for schedule(static) if (x.numel() > cpu::kParallelGrain)
    for (int64_t nc = 0; nc < dm.n * dm.c; ++nc)
      for (int64_t j = 0; j < dm.s; ++j) dst[nc * dm.s + j] = src[nc * dm.s + j] + add[nc];
  });
  return xs;
}

}  // namespace

void CpuBackend::group_norm_forward(const Tensor& x, const Tensor& channel_add,
                                    const Tensor& gamma, const Tensor& beta, int groups,
                                    double eps, bool silu, Tensor& y, Tensor& mean, Tensor& rstd) {
  const GnDims dm = gn_dims(x, groups);
  const Tensor xs = shifted(x, channel_add, dm);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    gn_forward<T>(xs.data<T>(), ptr_or_null<T>(gamma), ptr_or_null<T>(beta), dm, eps, silu,
                  y.data<T>(), mean.data<T>(), rstd.data<T>());
  });
}

void CpuBackend::group_norm_backward(const Tensor& x, const Tensor& channel_add,
                                     const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                     const Tensor& rstd, const Tensor& dy, int groups, bool silu,
                                     Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  const GnDims dm = gn_dims(x, groups);
  const Tensor xs = shifted(x, channel_add, dm);
  cpu::dispatch_float(x.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    gn_backward<T>(xs.data<T>(), ptr_or_null<T>(gamma), ptr_or_null<T>(beta), mean.data<T>(),
                   rstd.data<T>(), dy.data<T>(), dm, silu, mut_ptr_or_null<T>(dx),
                   mut_ptr_or_null<T>(dgamma), mut_ptr_or_null<T>(dbeta));
  });
}

}  // namespace s2dm
