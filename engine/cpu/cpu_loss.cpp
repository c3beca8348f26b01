// CPU fused S²-DM loss (Backend::skip_loss): one OpenMP task per sample sums both squared
// residuals in double and writes that sample's dout in the same sweep; the per-sample terms are
// then added in sample order, so the batch loss does not depend on the thread count.
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"

namespace s2dm {

namespace {

struct SkipLossDims {
  int64_t batch = 0, per_sample = 0;
};

// With d0 = eps1 − out and ds = eps2 − c·out: dout = −(2s/B)·(w0·d0 + wskip·c·ds).
template <typename T>
void skip_loss_cpu(const T* out, const T* eps1, const T* eps2, const T* c, const T* w0,
                   const T* wskip, SkipLossDims dm, double inv_reduce, T* l0, T* lskip, T* loss,
                   T* dout) {
  std::vector<double> term(static_cast<size_t>(dm.batch));
  const double k = 2.0 * inv_reduce / static_cast<double>(dm.batch);
#pragma omp parallel for schedule(static) if (dm.batch * dm.per_sample > cpu::kParallelGrain)
  for (int64_t b = 0; b < dm.batch; ++b) {
    const double cb = static_cast<double>(c[b]), a0 = static_cast<double>(w0[b]);
    const double as = static_cast<double>(wskip[b]);
    const double g0 = k * a0, gs = k * as * cb;
    const int64_t base = b * dm.per_sample;
    double s0 = 0, ss = 0;
    for (int64_t j = base; j < base + dm.per_sample; ++j) {
      const double o = static_cast<double>(out[j]);
      const double d0 = static_cast<double>(eps1[j]) - o;
      const double ds = static_cast<double>(eps2[j]) - cb * o;
      s0 += d0 * d0;
      ss += ds * ds;
      if (dout != nullptr) dout[j] = static_cast<T>(-(g0 * d0 + gs * ds));
    }
    l0[b] = static_cast<T>(inv_reduce * s0);
    lskip[b] = static_cast<T>(inv_reduce * ss);
    term[static_cast<size_t>(b)] = inv_reduce * (a0 * s0 + as * ss);
  }
  double total = 0;
  for (double t : term) total += t;
  loss[0] = static_cast<T>(total / static_cast<double>(dm.batch));
}

}  // namespace

void CpuBackend::skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2,
                           const Tensor& c, const Tensor& w0, const Tensor& wskip,
                           double inv_reduce, Tensor& l0, Tensor& lskip, Tensor& loss,
                           Tensor& dout) {
  S2DM_CHECK(out.dim() >= 1 && out.size(0) >= 1, "skip_loss: out {} has no batch", out.str());
  const SkipLossDims dm{out.size(0), out.numel() / out.size(0)};
  cpu::dispatch_float(out.dtype(), [&](auto tag_) {
    using T = decltype(tag_);
    skip_loss_cpu<T>(out.data<T>(), eps1.data<T>(), eps2.data<T>(), c.data<T>(), w0.data<T>(),
                     wskip.data<T>(), dm, inv_reduce, l0.data<T>(), lskip.data<T>(), loss.data<T>(),
                     dout.defined() ? dout.data<T>() : nullptr);
  });
}

}  // namespace s2dm
