// KernelBackend: 1x1, stride-1, unpadded convolutions as batched matrix products on the backend's
// gemm (cuBLAS on a GPU). With P = H·W, each sample is a product with the shared weight matrix:
//   y[n][Co, P]  = W[Co, Ci] · x[n][Ci, P] (+ bias, copied into y first and kept with beta = 1)
//   dx[n][Ci, P] = Wᵀ · dy[n]
//   dW           = Σ_n dy[n] · x[n]ᵀ   (per-sample products, then the deterministic sum_to)
//   dbias        = Σ_n Σ_p dy[n][Co, p]
// cuDNN ran these (the UNet's attention projections and skip projections) at 17 TFLOP/s forward
// on an H200, where batched cuBLAS products of the same size run at about 90.
#include "engine/error.h"
#include "engine/kernel_backend/kernel_backend.h"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

bool KernelBackend::conv1x1_by_gemm(const Tensor& w, Conv2dParams p) {
  return w.dim() == 4 && w.size(2) == 1 && w.size(3) == 1 && p.stride == 1 && p.pad_h == 0 &&
         p.pad_w == 0;
}

void KernelBackend::conv1x1_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                                    Tensor& y) {
  const int64_t n = x.size(0), ci = x.size(1), co = w.size(0), plane = x.size(2) * x.size(3);
  S2DM_CHECK(w.size(1) == ci && y.shape() == Shape({n, co, x.size(2), x.size(3)}),
             "conv2d: output {} for x {} w {}", y.str(), x.str(), w.str());
  Tensor y3 = y.view({n, co, plane});
  double beta = 0.0;
  if (bias.defined()) {
    copy(bias.view({1, co, 1}).expand({n, co, plane}), y3);
    beta = 1.0;
  }
  gemm(w.view({1, co, ci}), false, x.view({n, ci, plane}), false, y3, 1.0, beta);
}

void KernelBackend::conv1x1_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                                     Tensor& dx, Tensor& dw, Tensor& dbias) {
  const int64_t n = x.size(0), ci = x.size(1), co = w.size(0), plane = x.size(2) * x.size(3);
  S2DM_CHECK(w.size(1) == ci && dy.shape() == Shape({n, co, x.size(2), x.size(3)}),
             "conv2d: output gradient {} for x {} w {}", dy.str(), x.str(), w.str());
  const Tensor dy3 = dy.view({n, co, plane});
  if (dx.defined()) {
    Tensor dx3 = dx.view({n, ci, plane});
    gemm(w.view({1, co, ci}), true, dy3, false, dx3, 1.0, 0.0);
  }
  if (dw.defined()) {
    Tensor per_sample = Tensor::empty({n, co, ci}, dy.dtype(), device());
    gemm(dy3, false, x.view({n, ci, plane}), true, per_sample, 1.0, 0.0);
    Tensor dw3 = dw.view({1, co, ci});
    sum_to(per_sample, dw3);
  }
  if (dbias.defined()) {
    Tensor db3 = dbias.view({1, co, 1});
    sum_to(dy3, db3);
  }
}

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
