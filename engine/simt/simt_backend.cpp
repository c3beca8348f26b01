// SimtBackend: host memory, memcpy copies and the CPU backend's gemm and convolution under
// KernelBackend (compiled here with S2DM_SIMT, so its launches go to the emulator). 1x1
// convolutions take KernelBackend's batched-gemm path, as on the GPU.
#include "engine/simt/simt_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "engine/kernel_backend/kernel_backend.h"

namespace s2dm {

namespace {

class SimtBackend final : public KernelBackend {
 public:
  Device device() const override { return Device::simt(); }

  void* allocate(size_t nbytes) override {
    // 64-byte alignment like the CPU backend; at least one byte so the pointer is unique.
    void* p = std::aligned_alloc(64, (std::max<size_t>(nbytes, 1) + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* p, size_t) override { std::free(p); }
  void copy_from_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy_to_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }

  void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, double alpha,
            double beta) override {
    backend_for(Device::cpu()).gemm(a, trans_a, b, trans_b, c, alpha, beta);
  }
  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                      Conv2dParams p) override {
    if (conv1x1_by_gemm(w, p)) return conv1x1_forward(x, w, bias, y);  // as CudaBackend does
    backend_for(Device::cpu()).conv2d_forward(x, w, bias, y, p);
  }
  void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                       Tensor& dbias, Conv2dParams p) override {
    if (conv1x1_by_gemm(w, p)) return conv1x1_backward(x, w, dy, dx, dw, dbias);
    backend_for(Device::cpu()).conv2d_backward(x, w, dy, dx, dw, dbias, p);
  }

 protected:
  cudaStream_t begin() override { return nullptr; }
  void copy_bytes(void* dst, const void* src, size_t n) override { std::memmove(dst, src, n); }
};

}  // namespace

Backend& simt_backend() {
  static SimtBackend* b = new SimtBackend();  // never destroyed, like the other backends
  return *b;
}

void register_simt_backend() {
  static std::once_flag once;
  std::call_once(once, [] { register_backend(DeviceType::SIMT, &simt_backend()); });
}

}  // namespace s2dm
