// CUDA backend: memory, copies and fills on the device's stream; the remaining ops report that
// they run only on the CPU backend (kCpuOnlyOps).
#include "engine/cuda/cuda_backend.h"

#include <cmath>
#include <mutex>
#include <vector>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/device_runtime.h"
#include "kernels/fill.cuh"
#include "kernels/random_fill.cuh"

namespace s2dm {

namespace {
[[noreturn]] void not_on_cuda(std::string_view op) {
  // Every name passed here is listed in kCpuOnlyOps, which documents the set in one place.
  fail("{} is not available on CUDA yet; use --device cpu", op);
}

void check_contiguous_on(const Tensor& t, Device d, std::string_view op) {
  S2DM_CHECK(t.device() == d, "{}: tensor {} is not on {}", op, t.str(), d.str());
  if (!t.is_contiguous()) not_on_cuda(op == "fill" ? "fill (non-contiguous)"
                                                   : "copy (strided or dtype-converting)");
}

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

// ---------------------------------------------------------------- memory
void* CudaBackend::allocate(size_t nbytes) {
  return cuda::device_allocator(index_).allocate(nbytes);
}

void CudaBackend::deallocate(void* p, size_t /*nbytes*/) {
  cuda::device_allocator(index_).deallocate(p);
}

void CudaBackend::copy_from_host(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  cuda::Stream s = cuda::stream(index_);
  S2DM_CUDA_CHECK(cudaSetDevice(index_));
  S2DM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s));
  // The caller may free or overwrite src as soon as we return.
  S2DM_CUDA_CHECK(cudaStreamSynchronize(s));
}

void CudaBackend::copy_to_host(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  cuda::Stream s = cuda::stream(index_);
  S2DM_CUDA_CHECK(cudaSetDevice(index_));
  S2DM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s));
  S2DM_CUDA_CHECK(cudaStreamSynchronize(s));
}

// ---------------------------------------------------------------- layout
void CudaBackend::fill(Tensor& out, double value) {
  check_contiguous_on(out, device(), "fill");
  const int64_t n = out.numel();
  if (n == 0) return;
  cuda::Stream s = cuda::stream(index_);
  S2DM_CUDA_CHECK(cudaSetDevice(index_));
  // +0.0 is all-zero bits in every dtype; memset needs no kernel launch.
  if (value == 0.0 && !std::signbit(value)) {
    S2DM_CUDA_CHECK(cudaMemsetAsync(out.raw(), 0, out.nbytes(), s));
    return;
  }
  switch (out.dtype()) {
    case DType::F32:
      kernels::launch_fill(out.data<float>(), n, static_cast<float>(value), s);
      break;
    case DType::F64:
      kernels::launch_fill(out.data<double>(), n, value, s);
      break;
    case DType::BF16:
      kernels::launch_fill(static_cast<uint16_t*>(out.raw()), n,
                           float_to_bf16(static_cast<float>(value)), s);
      break;
  }
  S2DM_CUDA_CHECK_LAUNCH();
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  check_contiguous_on(src, device(), "copy");
  check_contiguous_on(dst, device(), "copy");
  if (src.dtype() != dst.dtype()) not_on_cuda("copy (strided or dtype-converting)");
  S2DM_CHECK(src.numel() == dst.numel(), "copy: {} into {}", src.str(), dst.str());
  if (src.nbytes() == 0 || src.raw() == dst.raw()) return;
  cuda::Stream s = cuda::stream(index_);
  S2DM_CUDA_CHECK(cudaSetDevice(index_));
  S2DM_CUDA_CHECK(
      cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(), cudaMemcpyDeviceToDevice, s));
}

// ---------------------------------------------------------------- random fills
void CudaBackend::fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo,
                               double hi) {
  check_contiguous_on(out, device(), "fill");
  cuda::Stream s = cuda::stream(index_);
  S2DM_CUDA_CHECK(cudaSetDevice(index_));
  switch (out.dtype()) {
    case DType::F32:
      kernels::launch_fill_uniform(out.data<float>(), out.numel(), seed, offset, lo, hi, s);
      break;
    case DType::F64:
      kernels::launch_fill_uniform(out.data<double>(), out.numel(), seed, offset, lo, hi, s);
      break;
    case DType::BF16: not_on_cuda("fill_uniform/fill_normal (bfloat16)");
  }
  S2DM_CUDA_CHECK_LAUNCH();
}

void CudaBackend::fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                              double stddev) {
  check_contiguous_on(out, device(), "fill");
  cuda::Stream s = cuda::stream(index_);
  S2DM_CUDA_CHECK(cudaSetDevice(index_));
  switch (out.dtype()) {
    case DType::F32:
      kernels::launch_fill_normal(out.data<float>(), out.numel(), seed, offset, mean, stddev, s);
      break;
    case DType::F64:
      kernels::launch_fill_normal(out.data<double>(), out.numel(), seed, offset, mean, stddev, s);
      break;
    case DType::BF16: not_on_cuda("fill_uniform/fill_normal (bfloat16)");
  }
  S2DM_CUDA_CHECK_LAUNCH();
}

// ---------------------------------------------------------------- CPU-only ops (kCpuOnlyOps)
void CudaBackend::unary(UnaryOp, const Tensor&, Tensor&) { not_on_cuda("unary"); }
void CudaBackend::unary_backward(UnaryOp, const Tensor&, const Tensor&, Tensor&) {
  not_on_cuda("unary_backward");
}
void CudaBackend::binary(BinaryOp, const Tensor&, const Tensor&, Tensor&) {
  not_on_cuda("binary");
}
void CudaBackend::scalar(ScalarOp, const Tensor&, double, Tensor&) { not_on_cuda("scalar"); }
void CudaBackend::axpy(Tensor&, double, const Tensor&) { not_on_cuda("axpy"); }
void CudaBackend::sum_to(const Tensor&, Tensor&) { not_on_cuda("sum_to"); }
double CudaBackend::sum_squares(const Tensor&) { not_on_cuda("sum_squares"); }
void CudaBackend::gemm(const Tensor&, bool, const Tensor&, bool, Tensor&, double, double) {
  not_on_cuda("gemm");
}
void CudaBackend::conv2d_forward(const Tensor&, const Tensor&, const Tensor&, Tensor&,
                                 Conv2dParams) {
  not_on_cuda("conv2d_forward");
}
void CudaBackend::conv2d_backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&,
                                  Tensor&, Conv2dParams) {
  not_on_cuda("conv2d_backward");
}
void CudaBackend::group_norm_forward(const Tensor&, const Tensor&, const Tensor&, int, double,
                                     bool, Tensor&, Tensor&, Tensor&) {
  not_on_cuda("group_norm_forward");
}
void CudaBackend::group_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                      const Tensor&, const Tensor&, int, bool, Tensor&, Tensor&,
                                      Tensor&) {
  not_on_cuda("group_norm_backward");
}
void CudaBackend::softmax_forward(const Tensor&, Tensor&) { not_on_cuda("softmax_forward"); }
void CudaBackend::softmax_backward(const Tensor&, const Tensor&, Tensor&) {
  not_on_cuda("softmax_backward");
}
void CudaBackend::attention_forward(const Tensor&, const Tensor&, const Tensor&, double, Tensor&,
                                    Tensor&) {
  not_on_cuda("attention_forward");
}
void CudaBackend::attention_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Tensor&, const Tensor&, double, Tensor&, Tensor&,
                                     Tensor&) {
  not_on_cuda("attention_backward");
}
void CudaBackend::upsample_nearest2x_forward(const Tensor&, Tensor&) {
  not_on_cuda("upsample_nearest2x_forward");
}
void CudaBackend::upsample_nearest2x_backward(const Tensor&, Tensor&) {
  not_on_cuda("upsample_nearest2x_backward");
}
void CudaBackend::pad2d_forward(const Tensor&, Pad2dParams, Tensor&) {
  not_on_cuda("pad2d_forward");
}
void CudaBackend::pad2d_backward(const Tensor&, Pad2dParams, Tensor&) {
  not_on_cuda("pad2d_backward");
}
void CudaBackend::dropout_forward(const Tensor&, double, uint64_t, uint64_t, Tensor&) {
  not_on_cuda("dropout_forward");
}
void CudaBackend::dropout_backward(const Tensor&, double, uint64_t, uint64_t, Tensor&) {
  not_on_cuda("dropout_backward");
}
void CudaBackend::timestep_embedding_forward(const Tensor&, int64_t, Tensor&) {
  not_on_cuda("timestep_embedding_forward");
}
void CudaBackend::timestep_embedding_backward(const Tensor&, int64_t, const Tensor&, Tensor&) {
  not_on_cuda("timestep_embedding_backward");
}
void CudaBackend::adam_step(Tensor&, const Tensor&, Tensor&, Tensor&, const AdamParams&) {
  not_on_cuda("adam_step");
}
void CudaBackend::ema_update(Tensor&, const Tensor&, double) { not_on_cuda("ema_update"); }

}  // namespace s2dm
