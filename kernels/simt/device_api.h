// The device functions kernels call, defined for the SIMT emulator at global scope as CUDA
// declares them: barriers, warp shuffles and votes, atomics and the math/bit intrinsics.
//
// Invariants:
// - shuffles accept arithmetic types of at most 8 bytes (what CUDA overloads for); lanes whose
//   source lies outside their width segment (shfl_up/down/xor) get their own value back, and
//   reading a lane that is not in the mask is an error;
// - atomics are plain read-modify-write: only one emulated thread runs at any moment, and a
//   fiber switch happens only inside a barrier or warp collective, never inside an atomic;
// - fast-math intrinsics map to the accurate host functions, so emulated results may differ from
//   the GPU's in the last bits (compare kernels with tolerances, not bitwise, where they use them).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/simt/runtime.h"

namespace s2dm::simt::detail {

template <typename T>
T shuffle(WarpOp op, unsigned mask, T var, int operand, int width) {
  static_assert(std::is_arithmetic_v<T> && sizeof(T) <= 8,
                "warp shuffles take arithmetic types of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = running().warp_collective(op, mask, bits, sizeof(T), operand, width);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

inline uint64_t vote(WarpOp op, unsigned mask, int pred) {
  return running().warp_collective(op, mask, pred != 0 ? 1u : 0u, 0, 0, 32);
}

inline float reciprocal_sqrt(float x) { return 1.0f / std::sqrt(x); }
inline double reciprocal_sqrt(double x) { return 1.0 / std::sqrt(x); }

// The old value, as every CUDA atomic returns.
template <typename T, typename F>
T atomic_update(T* address, F update) {
  const T old = *address;
  *address = update(old);
  return old;
}

}  // namespace s2dm::simt::detail

// --- barriers ---------------------------------------------------------------------------------
inline void __syncthreads() { s2dm::simt::detail::running().barrier(false); }
inline int __syncthreads_count(int pred) {
  return static_cast<int>(s2dm::simt::detail::running().barrier(pred != 0));
}
inline int __syncthreads_and(int pred) {
  auto& ex = s2dm::simt::detail::running();
  return ex.barrier(pred != 0) == ex.block_threads();
}
inline int __syncthreads_or(int pred) {
  return s2dm::simt::detail::running().barrier(pred != 0) != 0;
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  s2dm::simt::detail::vote(s2dm::simt::detail::WarpOp::Sync, mask, 0);
}
// Memory is coherent on the host and fibers switch only at barriers: fences have nothing to do.
inline void __threadfence() {}
inline void __threadfence_block() {}

// --- warp shuffles and votes --------------------------------------------------------------------
template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  return s2dm::simt::detail::shuffle(s2dm::simt::detail::WarpOp::Shfl, mask, var, src_lane, width);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return s2dm::simt::detail::shuffle(s2dm::simt::detail::WarpOp::ShflUp, mask, var,
                                     static_cast<int>(delta), width);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return s2dm::simt::detail::shuffle(s2dm::simt::detail::WarpOp::ShflDown, mask, var,
                                     static_cast<int>(delta), width);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  return s2dm::simt::detail::shuffle(s2dm::simt::detail::WarpOp::ShflXor, mask, var, lane_mask,
                                     width);
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  return static_cast<unsigned>(
      s2dm::simt::detail::vote(s2dm::simt::detail::WarpOp::Ballot, mask, pred));
}
inline int __any_sync(unsigned mask, int pred) {
  return static_cast<int>(s2dm::simt::detail::vote(s2dm::simt::detail::WarpOp::Any, mask, pred));
}
inline int __all_sync(unsigned mask, int pred) {
  return static_cast<int>(s2dm::simt::detail::vote(s2dm::simt::detail::WarpOp::All, mask, pred));
}

// --- atomics ------------------------------------------------------------------------------------
// Integer arithmetic wraps as on the GPU (done in unsigned to stay defined in C++).
inline int atomicAdd(int* a, int v) {
  return s2dm::simt::detail::atomic_update(a, [v](int o) {
    return static_cast<int>(static_cast<unsigned>(o) + static_cast<unsigned>(v));
  });
}
inline unsigned atomicAdd(unsigned* a, unsigned v) {
  return s2dm::simt::detail::atomic_update(a, [v](unsigned o) { return o + v; });
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return s2dm::simt::detail::atomic_update(a, [v](unsigned long long o) { return o + v; });
}
inline float atomicAdd(float* a, float v) {
  return s2dm::simt::detail::atomic_update(a, [v](float o) { return o + v; });
}
inline double atomicAdd(double* a, double v) {
  return s2dm::simt::detail::atomic_update(a, [v](double o) { return o + v; });
}
inline int atomicSub(int* a, int v) {
  return s2dm::simt::detail::atomic_update(a, [v](int o) {
    return static_cast<int>(static_cast<unsigned>(o) - static_cast<unsigned>(v));
  });
}
inline unsigned atomicSub(unsigned* a, unsigned v) {
  return s2dm::simt::detail::atomic_update(a, [v](unsigned o) { return o - v; });
}
inline int atomicExch(int* a, int v) {
  return s2dm::simt::detail::atomic_update(a, [v](int) { return v; });
}
inline unsigned atomicExch(unsigned* a, unsigned v) {
  return s2dm::simt::detail::atomic_update(a, [v](unsigned) { return v; });
}
inline unsigned long long atomicExch(unsigned long long* a, unsigned long long v) {
  return s2dm::simt::detail::atomic_update(a, [v](unsigned long long) { return v; });
}
inline float atomicExch(float* a, float v) {
  return s2dm::simt::detail::atomic_update(a, [v](float) { return v; });
}

#define S2DM_SIMT_ATOMIC_ORDER(T)                                                          \
  inline T atomicMax(T* a, T v) {                                                          \
    return s2dm::simt::detail::atomic_update(a, [v](T o) { return o < v ? v : o; });       \
  }                                                                                        \
  inline T atomicMin(T* a, T v) {                                                          \
    return s2dm::simt::detail::atomic_update(a, [v](T o) { return v < o ? v : o; });       \
  }                                                                                        \
  inline T atomicCAS(T* a, T compare, T v) {                                               \
    return s2dm::simt::detail::atomic_update(a, [=](T o) { return o == compare ? v : o; }); \
  }                                                                                        \
  inline T atomicAnd(T* a, T v) {                                                          \
    return s2dm::simt::detail::atomic_update(a, [v](T o) { return o & v; });               \
  }                                                                                        \
  inline T atomicOr(T* a, T v) {                                                           \
    return s2dm::simt::detail::atomic_update(a, [v](T o) { return o | v; });               \
  }                                                                                        \
  inline T atomicXor(T* a, T v) {                                                          \
    return s2dm::simt::detail::atomic_update(a, [v](T o) { return o ^ v; });               \
  }
S2DM_SIMT_ATOMIC_ORDER(int)
S2DM_SIMT_ATOMIC_ORDER(unsigned)
S2DM_SIMT_ATOMIC_ORDER(long long)
S2DM_SIMT_ATOMIC_ORDER(unsigned long long)
#undef S2DM_SIMT_ATOMIC_ORDER

inline unsigned atomicInc(unsigned* a, unsigned limit) {
  return s2dm::simt::detail::atomic_update(a,
                                           [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* a, unsigned limit) {
  return s2dm::simt::detail::atomic_update(
      a, [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}

// --- math intrinsics ----------------------------------------------------------------------------
// glibc's <math.h> already declares __expf and friends (unexported internals), and C23 libcs
// declare rsqrt, so these become macros onto host functions instead of competing declarations.
#define rsqrtf(x) ::s2dm::simt::detail::reciprocal_sqrt(static_cast<float>(x))
#define rsqrt(x) ::s2dm::simt::detail::reciprocal_sqrt(x)
#define __expf(x) ::expf(x)
#define __logf(x) ::logf(x)
#define __sinf(x) ::sinf(x)
#define __cosf(x) ::cosf(x)
#define __powf(x, y) ::powf((x), (y))
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }

inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(int x) { return std::countl_zero(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return std::countl_zero(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(static_cast<unsigned>(x)) + 1; }
inline int __ffsll(long long x) {
  return x == 0 ? 0 : std::countr_zero(static_cast<unsigned long long>(x)) + 1;
}
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i, x >>= 1) r = (r << 1) | (x & 1u);
  return r;
}

template <typename T>
T __ldg(const T* p) {
  return *p;
}

// CUDA's global min/max overloads for device code.
#define S2DM_SIMT_MIN_MAX(T)                        \
  inline T min(T a, T b) { return b < a ? b : a; } \
  inline T max(T a, T b) { return a < b ? b : a; }
S2DM_SIMT_MIN_MAX(int)
S2DM_SIMT_MIN_MAX(unsigned)
S2DM_SIMT_MIN_MAX(long)
S2DM_SIMT_MIN_MAX(unsigned long)
S2DM_SIMT_MIN_MAX(long long)
S2DM_SIMT_MIN_MAX(unsigned long long)
S2DM_SIMT_MIN_MAX(float)
S2DM_SIMT_MIN_MAX(double)
#undef S2DM_SIMT_MIN_MAX
