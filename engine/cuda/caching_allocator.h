// A caching, stream-ordered device allocator, one per device. Invariants:
// - request sizes are rounded up (512 B granularity up to 1 MiB, 2 MiB above), and a freed block
//   is kept in a per-size cache and handed out again for the same rounded size, so a training
//   loop that allocates the same shapes every step stops calling cudaMalloc after the first step;
// - all work on a device is ordered on its one stream (device_runtime.h), so a block freed by the
//   host may be reused at once: later work on that stream runs after the work that used it;
// - when cudaMalloc fails the cache is released and the allocation retried once; a second failure
//   throws s2dm::Error naming the sizes and the fix (a smaller --batch).
// Statistics count rounded block sizes. Like the CPU backend's cache, blocks are never returned to
// the driver behind the caller's back; release_cache() does that explicitly.
// No CUDA headers here (the tests include it from code built for the SIMT emulator).
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace s2dm::cuda {

struct AllocatorStats {
  size_t bytes_in_use = 0;
  size_t peak_bytes_in_use = 0;  // since construction or the last reset_peak()
  size_t bytes_cached = 0;       // freed blocks held for reuse
  int64_t malloc_calls = 0;      // cudaMalloc calls that succeeded
};

class CachingAllocator {
 public:
  static constexpr size_t kSmallGranularity = 512;
  static constexpr size_t kSmallLimit = size_t{1} << 20;
  static constexpr size_t kLargeGranularity = size_t{2} << 20;

  explicit CachingAllocator(int device) : device_(device) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // nullptr for 0 bytes.
  void* allocate(size_t nbytes);
  // p must come from allocate on this allocator (nullptr is ignored).
  void deallocate(void* p);
  // Frees every cached block (cudaFree synchronises the device).
  void release_cache();

  AllocatorStats stats() const;
  void reset_peak();
  int device() const { return device_; }

  static size_t round_size(size_t nbytes);

 private:
  void release_cache_locked();

  int device_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // rounded size -> cached blocks
  std::unordered_map<void*, size_t> live_;               // block -> rounded size
  AllocatorStats stats_;
};

// The allocator of cuda:index (created on first use; validates the index).
CachingAllocator& device_allocator(int index);

// Page-locked host memory for staging host<->device transfers (not used by the backend's host
// copies yet, which are pageable and synchronous): cudaMemcpyAsync
// from pinned memory is truly asynchronous and runs at full bus speed. One buffer, grown as
// needed and reused; the caller synchronises the stream before overwriting data still in flight.
class PinnedStaging {
 public:
  PinnedStaging() = default;
  ~PinnedStaging();
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  // A buffer of at least nbytes; contents are not preserved when it grows.
  void* reserve(size_t nbytes);
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace s2dm::cuda
