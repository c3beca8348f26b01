// The caching device allocator and pinned staging buffers (see caching_allocator.h).
#include "engine/cuda/caching_allocator.h"

#include <algorithm>
#include <array>
#include <memory>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/device_runtime.h"

namespace s2dm::cuda {

namespace {
size_t round_up(size_t n, size_t granularity) {
  return (n + granularity - 1) / granularity * granularity;
}

std::string mib(size_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}
}  // namespace

size_t CachingAllocator::round_size(size_t nbytes) {
  return nbytes <= kSmallLimit ? round_up(nbytes, kSmallGranularity)
                               : round_up(nbytes, kLargeGranularity);
}

void* CachingAllocator::allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  const size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  void* p = nullptr;
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    stats_.bytes_cached -= size;
  } else {
    S2DM_CUDA_CHECK(cudaSetDevice(device_));
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      // Cached blocks of other sizes may be what stands in the way.
      release_cache_locked();
      err = cudaMalloc(&p, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      fail("CUDA out of memory allocating {} bytes on cuda:{} (in use {}, cached {}); "
           "use a smaller --batch",
           nbytes, device_, mib(stats_.bytes_in_use), mib(stats_.bytes_cached));
    }
    S2DM_CUDA_CHECK(err);
    ++stats_.malloc_calls;
  }
  live_.emplace(p, size);
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return p;
}

void CachingAllocator::deallocate(void* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(p);
  S2DM_CHECK(it != live_.end(), "cuda:{}: freeing a pointer this allocator did not allocate",
             device_);
  const size_t size = it->second;
  live_.erase(it);
  stats_.bytes_in_use -= size;
  free_[size].push_back(p);
  stats_.bytes_cached += size;
}

void CachingAllocator::release_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cache_locked();
}

void CachingAllocator::release_cache_locked() {
  S2DM_CUDA_CHECK(cudaSetDevice(device_));
  for (auto& [size, blocks] : free_)
    for (void* p : blocks) S2DM_CUDA_CHECK(cudaFree(p));
  free_.clear();
  stats_.bytes_cached = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

CachingAllocator& device_allocator(int index) {
  require_device(index);
  static std::mutex m;
  // Never destroyed: tensors with static lifetime may free device memory during exit, after
  // function-local statics would be gone; the driver reclaims everything at process end.
  static auto* allocators = new std::array<CachingAllocator*, 64>{};
  std::lock_guard<std::mutex> lock(m);
  CachingAllocator*& a = (*allocators)[static_cast<size_t>(index)];
  if (a == nullptr) a = new CachingAllocator(index);
  return *a;
}

PinnedStaging::~PinnedStaging() {
  // No throwing from a destructor; a failure here only leaks page-locked memory.
  if (data_ != nullptr) (void)cudaFreeHost(data_);
}

void* PinnedStaging::reserve(size_t nbytes) {
  if (nbytes <= capacity_) return data_;
  // Grow geometrically so a slowly growing batch does not re-pin memory every time.
  const size_t want = std::max(round_up(nbytes, size_t{1} << 20), capacity_ * 2);
  if (data_ != nullptr) {
    S2DM_CUDA_CHECK(cudaFreeHost(data_));
    data_ = nullptr;
    capacity_ = 0;
  }
  S2DM_CUDA_CHECK(cudaHostAlloc(&data_, want, cudaHostAllocDefault));
  capacity_ = want;
  return data_;
}

}  // namespace s2dm::cuda
