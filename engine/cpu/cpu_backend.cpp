// CPU backend: memory (with a cache of freed large blocks) and host copies. The ops live in
// cpu_<family>.cpp.
#include "engine/cpu/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/cpu/dispatch.h"
#include "engine/cpu/strided.h"

namespace s2dm {

Backend& cpu_backend() {
  static CpuBackend b;
  return b;
}

namespace {
// Freed large blocks are kept by size and handed out again. Training allocates the same sizes every
// step, and a fresh large block from the system costs page faults and zero-filling on first touch.
class HostBlockCache {
 public:
  static constexpr size_t kMinCached = size_t{1} << 16;  // smaller blocks: plain malloc is cheap
  static constexpr size_t kMaxCachedBytes = size_t{2} << 30;

  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }
  // Returns false when the cache is full (the caller frees the block).
  bool give(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + bytes > kMaxCachedBytes) return false;
    free_[bytes].push_back(p);
    cached_ += bytes;
    return true;
  }
  void release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

HostBlockCache& block_cache() {
  static HostBlockCache* cache = new HostBlockCache();  // outlives every static Tensor
  return *cache;
}

size_t rounded(size_t nbytes) {
  const size_t unit = nbytes >= HostBlockCache::kMinCached ? 4096 : 64;  // 64-byte SIMD/BLAS alignment
  return (nbytes + unit - 1) / unit * unit;
}
}  // namespace

void* CpuBackend::allocate(size_t nbytes) {
  const size_t bytes = rounded(nbytes);
  if (bytes >= HostBlockCache::kMinCached)
    if (void* p = block_cache().take(bytes)) return p;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) {  // give the cached blocks back to the system and try once more
    block_cache().release_all();
    p = std::aligned_alloc(64, bytes);
  }
  S2DM_CHECK(p != nullptr, "out of host memory allocating {} bytes; use a smaller --batch or model", nbytes);
  return p;
}

void CpuBackend::deallocate(void* p, size_t nbytes) {
  const size_t bytes = rounded(nbytes);
  if (bytes >= HostBlockCache::kMinCached && block_cache().give(p, bytes)) return;
  std::free(p);
}

void CpuBackend::copy_from_host(void* dst, const void* src, size_t n) { std::memcpy(dst, src, n); }
void CpuBackend::copy_to_host(void* dst, const void* src, size_t n) { std::memcpy(dst, src, n); }

}  // namespace s2dm
