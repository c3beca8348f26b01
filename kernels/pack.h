// Packs: V consecutive elements moved as one aligned access (V·sizeof(T) = 16 bytes gives one
// 128-bit load or store per thread). The caller guarantees the alignment.
#pragma once
#include <cstdint>

#include "kernels/kernel_launch.h"

namespace s2dm::kernels {
inline namespace S2DM_KERNEL_TARGET {

inline constexpr uintptr_t kPackBytes = 16;

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// Elements of T in one 16-byte pack.
template <typename T>
inline constexpr int kPackOf = static_cast<int>(kPackBytes / sizeof(T));

template <int V, typename T>
__device__ __forceinline__ Pack<T, V> load(const T* p, int64_t i) {
  return *reinterpret_cast<const Pack<T, V>*>(p + i);
}

template <int V, typename T>
__device__ __forceinline__ void store(T* p, int64_t i, const Pack<T, V>& x) {
  *reinterpret_cast<Pack<T, V>*>(p + i) = x;
}

inline bool pack_aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % kPackBytes == 0; }

}  // namespace S2DM_KERNEL_TARGET
}  // namespace s2dm::kernels
