// The CUDA backend, one instance per device: KernelBackend's ops on the handwritten kernels,
// plus device memory (the caching allocator), host<->device copies, cuBLAS matrix products
// (cublas_gemm.h) and cuDNN convolutions (cudnn_conv.h).
// Invariants: all work is queued on the device's one stream; copies to and from the host
// synchronise that stream before returning, so host buffers are safe to reuse afterwards.
// This header exposes no CUDA or kernel types, so any translation unit may include it.
#pragma once
#include "engine/backend.h"

namespace s2dm {

// Probes the devices once and registers the CUDA backend; later calls do nothing. After it, a
// machine without a usable device makes backend_for(Device::cuda(i)) throw "... no CUDA device:
// <reason>; run with --device cpu".
void register_cuda_backend();
// The backend of cuda:index; throws s2dm::Error when that device does not exist.
Backend& cuda_backend(int index);

}  // namespace s2dm
