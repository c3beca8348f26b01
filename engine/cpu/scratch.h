// Scratch memory for the CPU convolutions: one 64-byte aligned buffer per calling thread that
// only grows, so steady-state training allocates nothing (fresh large allocations would
// page-fault on every call). Callers take it outside parallel regions and carve it up there, so
// nothing inside a region allocates or throws.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "engine/error.h"

namespace s2dm::cpu {

class Scratch {
 public:
  // At least `count` Ts; the contents are not kept across a call that grows it.
  template <typename T>
  T* get(int64_t count) {
    const size_t bytes = (static_cast<size_t>(count) * sizeof(T) + 63) / 64 * 64;
    if (bytes > capacity_) {
      data_.reset();  // free the old buffer first: its contents are not needed
      capacity_ = 0;
      data_.reset(static_cast<unsigned char*>(std::aligned_alloc(64, bytes)));
      S2DM_CHECK(data_ != nullptr,
                 "conv2d: out of host memory for {} MB of scratch; S2DM_CONV=direct runs "
                 "oneDNN's direct kernels, which need the least",
                 bytes >> 20);
      capacity_ = bytes;
    }
    return reinterpret_cast<T*>(data_.get());
  }

 private:
  struct Free {
    void operator()(unsigned char* p) const { std::free(p); }
  };
  std::unique_ptr<unsigned char, Free> data_;
  size_t capacity_ = 0;
};

// The calling thread's scratch, shared by every convolution it runs (one at a time).
inline Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

}  // namespace s2dm::cpu
