// The CPU backend: the reference implementation of every op in engine/backend.h.
// Loops are parallelised with OpenMP; matrix products (and convolution via im2col) use OpenBLAS.
// Each op family lives in its own cpu_<family>.cpp; dispatch.h maps dtypes to C++ types.
#pragma once
#include "engine/backend.h"

namespace s2dm {

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }

  void* allocate(size_t nbytes) override;
  void deallocate(void* p, size_t nbytes) override;
  void copy_from_host(void* dst, const void* src, size_t nbytes) override;
  void copy_to_host(void* dst, const void* src, size_t nbytes) override;

  void fill(Tensor& out, double value) override;
  void copy(const Tensor& src, Tensor& dst) override;

  void unary(UnaryOp op, const Tensor& x, Tensor& y) override;
  void unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) override;
  void axpy(Tensor& y, double alpha, const Tensor& x) override;

  void sum_to(const Tensor& x, Tensor& out) override;
  double sum_squares(const Tensor& x) override;

  void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, double alpha,
            double beta) override;

  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                      Conv2dParams p) override;
  void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                       Tensor& dbias, Conv2dParams p) override;

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
};

}  // namespace s2dm
