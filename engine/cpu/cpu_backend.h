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

  // Every op of engine/backend_ops.h; the family of each is in cpu_<family>.cpp.
  S2DM_BACKEND_OPS(S2DM_DECLARE_OVERRIDE_OP)
};

}  // namespace s2dm
