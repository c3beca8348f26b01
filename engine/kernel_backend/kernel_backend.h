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
  // The ops on our own kernels, each family in engine/kernel_backend/<family>.cpp. The library
  // ops (S2DM_LIBRARY_OPS: gemm, convolutions) are the derived backend's.
  S2DM_KERNEL_OPS(S2DM_DECLARE_OVERRIDE_OP)

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

  // 1x1, stride-1, unpadded convolutions as batched gemm (engine/kernel_backend/conv.cpp),
  // for the derived backends' conv2d_* to route there.
  static bool conv1x1_by_gemm(const Tensor& w, Conv2dParams p);
  void conv1x1_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
  void conv1x1_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                        Tensor& dbias);

 private:
  // Row softmax with log-sum-exp, the middle of attention as batched products
  // (engine/kernel_backend/softmax.cpp; the products are in attention.cpp).
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
