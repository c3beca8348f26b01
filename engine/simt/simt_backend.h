// The SIMT backend (device "simt"): KernelBackend's ops, i.e. the CUDA kernels and all the code
// between a Tensor and a launch, run on the CPU by the SIMT emulator, with tensors in host memory.
// It exists so tests check the GPU code path on machines without a GPU; the matrix products and
// convolutions that the GPU gets from cuBLAS and cuDNN are the CPU backend's here (they are
// library calls, not our kernels, and are checked against the CPU on a GPU machine).
// Linked only into the tests and the backend-ops harness (library s2dm_engine_simt).
#pragma once
#include "engine/backend.h"

namespace s2dm {

// Registers the backend for Device::simt(); later calls do nothing.
void register_simt_backend();
Backend& simt_backend();

}  // namespace s2dm
