// The backend interface: the complete set of primitive ops a device must provide.
//
// The CPU backend is the reference; the CUDA backend implements the same list. Contract for every
// method unless its comment says otherwise:
// - all tensors live on this backend's device and have one dtype (F32 or F64);
// - inputs are contiguous, outputs are allocated by the caller, contiguous, and fully overwritten;
// - optional tensors are passed undefined when absent or not wanted.
// Shape checks happen in the ops layer (engine/ops/), which also records autograd nodes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/backend_ops.h"
#include "engine/tensor.h"
#include "kernels/elementwise_math.h"

namespace s2dm {

// UnaryOp, BinaryOp and ScalarOp are kernels/elementwise_math.h's, shared with the kernels.

struct Conv2dParams {
  int stride = 1;            // on H and W
  int pad_h = 0, pad_w = 0;  // zero padding on both sides of H (top and bottom), and of W
  constexpr Conv2dParams() = default;
  constexpr Conv2dParams(int stride_, int pad) : stride(stride_), pad_h(pad), pad_w(pad) {}
  constexpr Conv2dParams(int stride_, int pad_h_, int pad_w_)
      : stride(stride_), pad_h(pad_h_), pad_w(pad_w_) {}
};

struct Pad2dParams {
  int left = 0, right = 0, top = 0, bottom = 0;
  double value = 0.0;
};

// max_pool2d / avg_pool2d: a kh x kw window moved by (stride_h, stride_w) over the input with
// implicit padding pad_h on the top and bottom, pad_w on the left and right (at most half the
// window, as PyTorch requires).
struct Pool2dParams {
  int kh = 1, kw = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  bool count_include_pad = true;  // avg_pool2d: padding counts in the divisor (PyTorch's default)
};

struct AdamParams {
  double lr = 2e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  int64_t step = 1;         // 1-based step count used for bias correction
  double grad_scale = 1.0;  // applied to the gradient first (gradient clipping)
  // With a squared-norm tensor grad_sq: grad_scale is further multiplied by clip_grad_norm_'s
  // min(1, max_norm / (norm + 1e-6)); max_norm <= 0 does not clip.
  double max_norm = 0.0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // --- memory ---
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  virtual void copy_from_host(void* dst, const void* src, size_t nbytes) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t nbytes) = 0;

  // --- the ops, one per entry of engine/backend_ops.h (their contracts are there) ---
  S2DM_BACKEND_OPS(S2DM_DECLARE_PURE_OP)
};

// TF32 tensor-core math for float32 matrix products and convolutions on the GPU: on by default
// (10-bit mantissa products, float32 accumulation), off for full float32 (`--no-tf32`). CPU and
// float64 work ignore it. Read when an op runs, so it may change between steps.
void set_tf32_enabled(bool enabled);
bool tf32_enabled();

// The most bytes of [B,N,M] attention scores a device backend may materialise to run attention as
// batched matrix products plus a softmax (the fast path on a GPU); larger problems, or a limit of
// 0, take the streaming (flash-style) kernels, whose memory does not grow with N·M. The CPU
// backend ignores it. Default 1 GiB.
void set_attention_scores_limit(size_t bytes);
size_t attention_scores_limit();

// Every op of Backend by name, in the order of engine/backend_ops.h. The backend-ops harness
// (tests/backend_ops/) checks that each one has parity cases.
inline constexpr const char* kBackendOpNames[] = {S2DM_BACKEND_OPS(S2DM_OP_NAME)};
inline constexpr int kBackendOpCount = 0 S2DM_BACKEND_OPS(S2DM_COUNT_OP);
static_assert(kBackendOpCount == 42, "an op was added to or removed from engine/backend_ops.h: "
                                     "update this count, the harness cases and docs/adding-an-op.md");

// The backend for a device; throws s2dm::Error when that device's backend is not available.
Backend& backend_for(Device device);
inline Backend& backend_of(const Tensor& t) { return backend_for(t.device()); }
// Called once by a backend's translation unit (the SIMT emulator's registers itself).
void register_backend(DeviceType type, Backend* backend);

}  // namespace s2dm
