// KernelBackend: the Backend ops implemented on the handwritten kernels in kernels/. This code is
// compiled twice, like the kernels: for the GPU (namespace on_gpu, base of CudaBackend, which adds
// device memory, streams, cuBLAS and cuDNN) and for the SIMT emulator (namespace on_simt, base of
// SimtBackend, which keeps tensors in host memory and runs the same kernels on the CPU). So every
// line between a Tensor and a kernel launch is exercised in CI, not only the kernels.
//
// A derived backend supplies memory, the device-to-device copy, the stream and the library ops
// (gemm, convolution); everything else is here, one file per op family.
// Invariants: ops validate layouts (contiguity, dtypes) before launching and throw s2dm::Error
// naming the op; scratch memory comes from Tensor::empty on this device, so on the GPU it is the
// caching allocator's and is stream-ordered like the op itself.
#pragma once
#include <initializer_list>
#include <string_view>

#include "engine/backend.h"
#include "kernels/kernel_launch.h"

namespace s2dm {
inline namespace S2DM_KERNEL_TARGET {

class KernelBackend : public Backend {
 public:
  void fill(Tensor& out, double value) override;
  void copy(const Tensor& src, Tensor& dst) override;

  void unary(UnaryOp op, const Tensor& x, Tensor& y) override;
  void unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) override;
  void axpy(Tensor& y, double alpha, const Tensor& x) override;

  void sum_to(const Tensor& x, Tensor& out) override;
  double sum_squares(const Tensor& x) override;

  void group_norm_forward(const Tensor& x, const Tensor& channel_add, const Tensor& gamma,
                          const Tensor& beta, int groups, double eps, bool silu, Tensor& y,
                          Tensor& mean, Tensor& rstd) override;
  void group_norm_backward(const Tensor& x, const Tensor& channel_add, const Tensor& gamma,
                           const Tensor& beta, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, int groups, bool silu, Tensor& dx, Tensor& dgamma,
                           Tensor& dbeta) override;

  void softmax_forward(const Tensor& x, Tensor& y) override;
  void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) override;

  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                         Tensor& o, Tensor& lse) override;
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                          const Tensor& lse, const Tensor& d_o, double scale, Tensor& dq,
                          Tensor& dk, Tensor& dv) override;
  void attention_channels_first_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                        double scale, Tensor& o, Tensor& lse) override;
  void attention_channels_first_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                         const Tensor& o, const Tensor& lse, const Tensor& d_o,
                                         double scale, Tensor& dq, Tensor& dk,
                                         Tensor& dv) override;

  void upsample_nearest2x_forward(const Tensor& x, Tensor& y) override;
  void upsample_nearest2x_backward(const Tensor& dy, Tensor& dx) override;
  void pad2d_forward(const Tensor& x, Pad2dParams p, Tensor& y) override;
  void pad2d_backward(const Tensor& dy, Pad2dParams p, Tensor& dx) override;

  void dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset,
                       Tensor& y) override;
  void dropout_backward(const Tensor& dy, double p, uint64_t seed, uint64_t offset,
                        Tensor& dx) override;

  void timestep_embedding_forward(const Tensor& t, int64_t dim, Tensor& emb) override;
  void timestep_embedding_backward(const Tensor& t, int64_t dim, const Tensor& demb,
                                   Tensor& dt) override;

  void fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) override;
  void fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                   double stddev) override;

  void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                 const AdamParams& p) override;
  void ema_update(Tensor& ema, const Tensor& param, double decay) override;
  void adam_ema_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, Tensor& ema,
                     const AdamParams& p, double ema_decay) override;

  void skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2, const Tensor& c,
                 const Tensor& w0, const Tensor& wskip, double inv_reduce, Tensor& l0,
                 Tensor& lskip, Tensor& loss, Tensor& dout) override;

 protected:
  // Makes this backend's device current for the calling thread and returns the stream every
  // launch of the op goes on.
  virtual cudaStream_t begin() = 0;
  // Contiguous device-to-device byte copy on the stream.
  virtual void copy_bytes(void* dst, const void* src, size_t nbytes) = 0;

  // Throws "<op>: <t> <problem>" unless t is defined, on this device and contiguous.
  void require_contiguous(std::string_view op, const Tensor& t) const;
  void require_contiguous(std::string_view op, std::initializer_list<const Tensor*> ts) const {
    for (const Tensor* t : ts) require_contiguous(op, *t);
  }
  // The same for the tensors that are defined (optional inputs and outputs).
  void require_contiguous_if_defined(std::string_view op,
                                     std::initializer_list<const Tensor*> ts) const {
    for (const Tensor* t : ts)
      if (t->defined()) require_contiguous(op, *t);
  }
  // Throws "<op> is not available on <device> yet; use --device cpu".
  [[noreturn]] void not_available(std::string_view op) const;

  // 1x1, stride-1, unpadded convolutions as batched gemm (engine/kernel_backend/conv1x1.cpp),
  // for the derived backends' conv2d_* to route there.
  static bool conv1x1_by_gemm(const Tensor& w, Conv2dParams p);
  void conv1x1_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
  void conv1x1_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                        Tensor& dbias);

 private:
  // Attention as batched products around the softmax kernel (engine/kernel_backend/attention.cpp).
  void softmax_rows_with_lse(Tensor& p, Tensor& lse);
  void attention_backward_by_gemm(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& d_o, double scale, Tensor& dq, Tensor& dk,
                                  Tensor& dv);
};

// After a launcher: on the GPU, launch-configuration errors surface here, with file and line;
// the emulator has already thrown.
void check_launch();

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm
