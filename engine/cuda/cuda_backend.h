// The CUDA backend, one instance per device. It owns the device's memory (through the caching
// allocator), host<->device copies, fills and the Philox random fills; every op in kCpuOnlyOps
// throws s2dm::Error "<op> is not available on CUDA yet; use --device cpu" so a model that
// reaches one fails with a message naming it rather than computing anything wrong.
// Invariants: all work is queued on the device's one stream; copies to and from the host
// synchronise that stream before returning, so host buffers are safe to reuse afterwards.
#pragma once
#include <array>
#include <string_view>

#include "engine/backend.h"

namespace s2dm {

// Backend methods that run only on the CPU backend in this build (the single list the CUDA
// backend's error messages come from).
inline constexpr auto kCpuOnlyOps = std::to_array<std::string_view>({
    "unary",
    "unary_backward",
    "binary",
    "scalar",
    "axpy",
    "sum_to",
    "sum_squares",
    "gemm",
    "conv2d_forward",
    "conv2d_backward",
    "group_norm_forward",
    "group_norm_backward",
    "softmax_forward",
    "softmax_backward",
    "attention_forward",
    "attention_backward",
    "upsample_nearest2x_forward",
    "upsample_nearest2x_backward",
    "pad2d_forward",
    "pad2d_backward",
    "dropout_forward",
    "dropout_backward",
    "timestep_embedding_forward",
    "timestep_embedding_backward",
    "adam_step",
    "ema_update",
    "copy (strided or dtype-converting)",
    "fill (non-contiguous)",
    "fill_uniform/fill_normal (bfloat16)",
});

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index) : index_(index) {}
  Device device() const override { return Device::cuda(index_); }

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

  void group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int groups,
                          double eps, bool silu, Tensor& y, Tensor& mean, Tensor& rstd) override;
  void group_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                           const Tensor& mean, const Tensor& rstd, const Tensor& dy, int groups,
                           bool silu, Tensor& dx, Tensor& dgamma, Tensor& dbeta) override;

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

 private:
  int index_;
};

// Probes the devices once and registers the CUDA backend; later calls do nothing. After it, a
// machine without a usable device makes backend_for(Device::cuda(i)) throw "... no CUDA device:
// <reason>; run with --device cpu".
void register_cuda_backend();
// The backend of cuda:index; throws s2dm::Error when that device does not exist.
Backend& cuda_backend(int index);

}  // namespace s2dm
