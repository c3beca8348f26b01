// CudaBackend: device memory, copies and the library ops on top of KernelBackend (built here
// for the GPU, namespace on_gpu). Convolutions go to cuDNN, except 1x1 stride-1 unpadded ones,
// which KernelBackend runs as batched cuBLAS products (faster than cuDNN's kernels for them).
#include "engine/cuda/cuda_backend.h"

#include <mutex>
#include <vector>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/cublas_gemm.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cudnn_conv.h"
#include "engine/cuda/device_runtime.h"
#include "engine/kernel_backend/kernel_backend.h"

namespace s2dm {

namespace {

class CudaBackend final : public KernelBackend {
 public:
  explicit CudaBackend(int index) : index_(index) {}
  Device device() const override { return Device::cuda(index_); }

  void* allocate(size_t nbytes) override {
    return cuda::device_allocator(index_).allocate(nbytes);
  }
  void deallocate(void* p, size_t) override { cuda::device_allocator(index_).deallocate(p); }

  void copy_from_host(void* dst, const void* src, size_t nbytes) override {
    host_copy(dst, src, nbytes, cudaMemcpyHostToDevice);
  }
  void copy_to_host(void* dst, const void* src, size_t nbytes) override {
    host_copy(dst, src, nbytes, cudaMemcpyDeviceToHost);
  }

  void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, double alpha,
            double beta) override {
    require_contiguous("gemm", {&a, &b, &c});
    cuda::cublas_gemm(index_, begin(), a, trans_a, b, trans_b, c, alpha, beta);
  }
  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                      Conv2dParams p) override {
    require_contiguous("conv2d_forward", {&x, &w, &y});
    if (bias.defined()) require_contiguous("conv2d_forward", bias);
    if (conv1x1_by_gemm(w, p)) return conv1x1_forward(x, w, bias, y);
    cuda::cudnn_conv2d_forward(index_, begin(), x, w, bias, y, p);
  }
  void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                       Tensor& dbias, Conv2dParams p) override {
    require_contiguous("conv2d_backward", {&x, &w, &dy});
    require_contiguous_if_defined("conv2d_backward", {&dx, &dw, &dbias});
    if (conv1x1_by_gemm(w, p)) return conv1x1_backward(x, w, dy, dx, dw, dbias);
    cuda::cudnn_conv2d_backward(index_, begin(), x, w, dy, dx, dw, dbias, p);
  }

 protected:
  cudaStream_t begin() override {
    S2DM_CUDA_CHECK(cudaSetDevice(index_));
    return cuda::stream(index_);
  }
  void copy_bytes(void* dst, const void* src, size_t nbytes) override {
    S2DM_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, cuda::stream(index_)));
  }

 private:
  void host_copy(void* dst, const void* src, size_t nbytes, cudaMemcpyKind kind) {
    if (nbytes == 0) return;
    cudaStream_t s = begin();
    S2DM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, s));
    // The caller may free or overwrite the host buffer as soon as we return.
    S2DM_CUDA_CHECK(cudaStreamSynchronize(s));
  }

  int index_;
};

std::vector<CudaBackend*>& backends() {
  // Never destroyed: tensors with static lifetime free their storage during exit.
  static auto* b = new std::vector<CudaBackend*>();
  return *b;
}

}  // namespace

void register_cuda_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    const int n = cuda::device_count();
    for (int i = 0; i < n; ++i) backends().push_back(new CudaBackend(i));
    if (n > 0) register_backend(DeviceType::CUDA, backends()[0]);
  });
}

Backend& cuda_backend(int index) {
  register_cuda_backend();
  cuda::require_device(index);
  return *backends()[static_cast<size_t>(index)];
}

}  // namespace s2dm
