// The SIMT emulator's scheduler: runs a kernel's grid on the host, one block at a time, with the
// block's threads as cooperative fibers.
//
// Why fibers: a kernel is straight-line C++ that may stop at __syncthreads or a warp collective
// and wait for its siblings. Each emulated thread gets its own stack (ucontext) and runs until it
// must wait; the waiting thread then switches directly to the next runnable thread of its block.
// This costs one context switch per wait, needs no OS threads, locks or atomics, and makes every
// run deterministic (threads start in linear-index order and are resumed round-robin). A
// std::thread per CUDA thread would cost a kernel-level switch per wait and a 1024-party barrier.
//
// Invariants:
// - all fibers of a grid run on the OS thread that called launch(); so do the built-in index
//   variables (thread_local, set before a fiber is resumed) and __shared__ statics;
// - a block finishes only when every thread has returned; a block in which no thread can run and
//   some have not returned is a deadlock and is reported with SimtError, never waited on;
// - a __syncthreads completes when all threads of the block reach one (exited threads never do);
// - a warp collective completes when every lane named in its mask reaches one with the same
//   operation and mask; a mismatch, a named lane that has exited, or a named lane that does not
//   exist is an error (all undefined behaviour on a GPU);
// - errors inside a kernel (including exceptions it throws) abandon the block and the launch;
//   the executor stays usable for the next launch.
#pragma once
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/simt/types.h"

#if defined(__SANITIZE_ADDRESS__)
#define S2DM_SIMT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S2DM_SIMT_ASAN 1
#endif
#endif
#if defined(S2DM_SIMT_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace s2dm::simt {

// A kernel was launched wrongly or misbehaved: invalid launch configuration, deadlock, divergent
// warp collective, an exception thrown by kernel code.
class SimtError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr unsigned kWarpSize = 32;
inline constexpr unsigned kMaxBlockThreads = 1024;
inline constexpr size_t kMaxDynamicShared = 48 * 1024;  // without a cudaFuncSetAttribute opt-in
// Generous for kernel code; pages are committed only when touched.
inline constexpr size_t kFiberStackBytes = 256 * 1024;

namespace detail {

enum class State : uint8_t { Ready, AtBarrier, AtWarp, Exited };
enum class WarpOp : uint8_t { Sync, Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All };

inline const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Sync: return "__syncwarp";
    case WarpOp::Shfl: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
  }
  return "?";
}

// Messages are built by appending: GCC 12 misreports `"literal" + std::string` under -Wrestrict.
inline void append(std::string& s, std::string_view v) { s.append(v); }
inline void append(std::string& s, const char* v) { s.append(v); }
template <typename N, std::enable_if_t<std::is_arithmetic_v<N>, int> = 0>
void append(std::string& s, N v) {
  s.append(std::to_string(v));
}
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (append(s, parts), ...);
  return s;
}

inline std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

inline std::string str(uint3 v) {
  return cat("(", v.x, ",", v.y, ",", v.z, ")");
}

inline std::string str(dim3 v) { return str(uint3{v.x, v.y, v.z}); }

// One emulated thread. Heap-allocated and never moved: glibc's ucontext_t points into itself.
struct Fiber {
  ucontext_t ctx{};
  void* stack = nullptr;  // kFiberStackBytes usable, above a PROT_NONE guard page
  uint3 idx{};
  State state = State::Ready;
  // The pending warp collective while state == AtWarp.
  WarpOp op = WarpOp::Sync;
  unsigned mask = 0;
  int operand = 0;  // source lane, delta or lane mask
  int width = 32;
  unsigned bytes = 0;  // size of the shuffled type
  uint64_t value = 0;
  uint64_t result = 0;  // written by whoever completes the collective or barrier

  Fiber() {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void* region = ::mmap(nullptr, kFiberStackBytes + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (region == MAP_FAILED) throw SimtError("simt: cannot map a fiber stack");
    ::mprotect(region, page, PROT_NONE);
    stack = static_cast<char*>(region) + page;
    ::getcontext(&ctx);
  }
  ~Fiber() {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    ::munmap(static_cast<char*>(stack) - page, kFiberStackBytes + page);
  }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
};

// AddressSanitizer must hear of every stack switch, or it reports the new stack as overflowing.
// A null fake_stack in stack_switch_begin tells it the stack being left is done with.
inline void stack_switch_begin(void** fake_stack, const void* bottom, size_t size) {
#if defined(S2DM_SIMT_ASAN)
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}

inline void stack_switch_end(void* fake_stack, const void** from_bottom, size_t* from_size) {
#if defined(S2DM_SIMT_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, from_bottom, from_size);
#else
  (void)fake_stack, (void)from_bottom, (void)from_size;
#endif
}

// A fiber stack is reused by the next block while the frames it held never returned: clear
// their redzones so they are not mistaken for the new frames'.
inline void stack_reuse(void* bottom, size_t size) {
#if defined(S2DM_SIMT_ASAN)
  __asan_unpoison_memory_region(bottom, size);
#else
  (void)bottom, (void)size;
#endif
}

using KernelBody = void (*)(const void* params);

class Executor;
inline thread_local Executor* t_running = nullptr;  // the executor inside a launch, else null
inline void fiber_main();

class Executor {
 public:
  // One per OS thread; fibers and stacks are reused across launches.
  static Executor& for_this_thread() {
    static thread_local Executor executor;
    return executor;
  }

  void run(dim3 grid, dim3 block, size_t dynamic_shared, KernelBody body, const void* params) {
    if (t_running != nullptr)
      throw SimtError("simt: a kernel launched a kernel (dynamic parallelism is not emulated)");
    validate(grid, block, dynamic_shared);
    nthreads_ = block.x * block.y * block.z;
    while (fibers_.size() < nthreads_) fibers_.push_back(std::make_unique<Fiber>());
    shared_.assign((dynamic_shared + sizeof(SharedChunk) - 1) / sizeof(SharedChunk), SharedChunk{});
    shared_bytes_ = dynamic_shared;
    body_ = body;
    params_ = params;
    ::blockDim = block;
    ::gridDim = grid;
    struct Reset {
      ~Reset() { t_running = nullptr; }
    } reset;
    t_running = this;
    for (unsigned z = 0; z < grid.z; ++z)
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) run_block(uint3{x, y, z});
  }

  unsigned block_threads() const { return nthreads_; }

  void* dynamic_shared() { return shared_.data(); }

  // __syncthreads and its counting forms: returns how many threads passed a true predicate.
  unsigned barrier(bool pred) {
    Fiber& me = *fibers_[current_];
    me.state = State::AtBarrier;
    ++at_barrier_;
    if (pred) ++barrier_true_;
    if (at_barrier_ == nthreads_) {
      const unsigned count = barrier_true_;
      at_barrier_ = 0;
      barrier_true_ = 0;
      for (unsigned t = 0; t < nthreads_; ++t) {
        fibers_[t]->state = State::Ready;
        fibers_[t]->result = count;
      }
      return count;
    }
    wait();
    return static_cast<unsigned>(me.result);
  }

  // A warp-wide rendezvous of the lanes in mask; the last lane to arrive computes every
  // participant's result. operand/width only matter for shuffles.
  uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, unsigned bytes, int operand,
                           int width) {
    const unsigned lane = current_ % kWarpSize, base = current_ - lane;
    const unsigned lanes = std::min(kWarpSize, nthreads_ - base);
    const unsigned existing = lanes == kWarpSize ? ~0u : (1u << lanes) - 1u;
    if (((mask >> lane) & 1u) == 0) {
      error_ = cat(op_name(op), " with mask ", hex(mask), " called by lane ", lane,
                   ", which the mask does not name");
      abandon();
    }
    if ((mask & ~existing) != 0) {
      error_ = cat(op_name(op), " mask ", hex(mask),
                   " names lanes beyond the last thread of a partial warp (", lanes, " lanes)");
      abandon();
    }
    if (width < 1 || width > static_cast<int>(kWarpSize) || (width & (width - 1)) != 0) {
      error_ = cat(op_name(op), " width ", width, " is not a power of two in [1, 32]");
      abandon();
    }
    Fiber& me = *fibers_[current_];
    me.state = State::AtWarp;
    me.op = op;
    me.mask = mask;
    me.operand = operand;
    me.width = width;
    me.bytes = bytes;
    me.value = value;
    bool complete = true;
    for (unsigned l = 0; l < kWarpSize; ++l) {
      if (((mask >> l) & 1u) == 0 || l == lane) continue;
      const Fiber& f = *fibers_[base + l];
      if (f.state == State::Exited) {
        error_ = cat(op_name(op), " with mask ", hex(mask), " waits for lane ", l,
                     ", which has exited");
        abandon();
      }
      const bool same = f.op == op && f.mask == mask && f.bytes == bytes;
      if (f.state != State::AtWarp || same) {
        complete = complete && f.state == State::AtWarp;
      } else if (((f.mask >> lane) & 1u) == 0) {
        complete = false;  // busy in a collective of another lane group; it arrives later
      } else {
        error_ = cat("divergent warp collectives: lane ", lane, " is at ", op_name(op),
                     " with mask ", hex(mask), ", lane ", l, " at ", op_name(f.op), " with mask ",
                     hex(f.mask));
        abandon();
      }
    }
    if (complete) {
      finish_collective(base, mask);
      return me.result;
    }
    wait();
    return me.result;
  }

  // Leaves the block after error_ was set; run_block then throws. The abandoned fibers' frames
  // are never unwound, so no error path may hold owning locals across this call.
  [[noreturn]] void abandon() {
    stack_switch_begin(nullptr, home_bottom_, home_size_);
    ::setcontext(&home_);
    std::terminate();  // setcontext returns only on failure
  }

  // The end of a thread: the kernel body returned or threw.
  [[noreturn]] void exit_current() {
    Fiber& me = *fibers_[current_];
    me.state = State::Exited;
    ++exited_;
    const unsigned lane = current_ % kWarpSize, base = current_ - lane;
    for (unsigned l = 0; l < kWarpSize && error_.empty() && base + l < nthreads_; ++l) {
      const Fiber& f = *fibers_[base + l];
      if (f.state == State::AtWarp && ((f.mask >> lane) & 1u) != 0)
        error_ = cat("lane ", lane, " exited while lane ", l, " waits for it in ",
                     op_name(f.op), " with mask ", hex(f.mask));
    }
    if (!error_.empty()) abandon();
    unsigned next = 0;
    if (find_ready(next)) {
      enter(next);
      stack_switch_begin(nullptr, fibers_[next]->stack, kFiberStackBytes);
      ::setcontext(&fibers_[next]->ctx);
    } else {
      stack_switch_begin(nullptr, home_bottom_, home_size_);
      ::setcontext(&home_);
    }
    std::terminate();
  }

  void record_exception(const char* what) {
    error_ = cat("kernel code threw: ", what);
  }

  void call_body() const { body_(params_); }

  // A fiber's first instructions: thread 0 of each block is always entered from home.
  void started(const void* from_bottom, size_t from_size) {
    if (current_ != 0) return;
    home_bottom_ = from_bottom;
    home_size_ = from_size;
  }

 private:
  struct alignas(64) SharedChunk {
    unsigned char bytes[64];
  };

  Executor() = default;

  static void validate(dim3 grid, dim3 block, size_t dynamic_shared) {
    const uint64_t threads = uint64_t{block.x} * block.y * block.z;
    if (threads == 0 || threads > kMaxBlockThreads || block.z > 64)
      throw SimtError(cat("simt: invalid launch: block ", str(block),
                          " (a block has 1 to 1024 threads and blockDim.z <= 64)"));
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 ||
        grid.z > 65535)
      throw SimtError(cat("simt: invalid launch: grid ", str(grid),
                          " (each dimension >= 1; x < 2^31, y and z <= 65535)"));
    if (dynamic_shared > kMaxDynamicShared)
      throw SimtError(cat("simt: invalid launch: ", dynamic_shared,
                          " bytes of dynamic shared memory (at most 48 KiB)"));
  }

  void run_block(uint3 block) {
    ::blockIdx = block;
    // Fresh dynamic shared memory reads as NaN / -1, so a read before the first write shows.
    if (shared_bytes_ > 0) std::memset(shared_.data(), 0xff, shared_bytes_);
    const dim3 bd = ::blockDim;
    for (unsigned t = 0; t < nthreads_; ++t) {
      Fiber& f = *fibers_[t];
      f.idx = uint3{t % bd.x, (t / bd.x) % bd.y, t / (bd.x * bd.y)};
      f.state = State::Ready;
      f.ctx.uc_stack.ss_sp = f.stack;
      f.ctx.uc_stack.ss_size = kFiberStackBytes;
      f.ctx.uc_link = nullptr;
      stack_reuse(f.stack, kFiberStackBytes);
      ::makecontext(&f.ctx, &fiber_main, 0);
    }
    exited_ = 0;
    at_barrier_ = 0;
    barrier_true_ = 0;
    error_.clear();
    enter(0);
    void* fake_stack = nullptr;
    stack_switch_begin(&fake_stack, fibers_[0]->stack, kFiberStackBytes);
    ::swapcontext(&home_, &fibers_[0]->ctx);
    stack_switch_end(fake_stack, nullptr, nullptr);
    if (!error_.empty())
      throw SimtError(cat("simt: block ", str(block), ", thread ", str(fibers_[current_]->idx),
                          ": ", error_));
    if (exited_ != nthreads_) throw SimtError(deadlock_report(block));
  }

  void enter(unsigned t) {
    current_ = t;
    ::threadIdx = fibers_[t]->idx;
  }

  // The next runnable thread after the current one, round-robin.
  bool find_ready(unsigned& next) const {
    for (unsigned k = 1; k <= nthreads_; ++k) {
      const unsigned t = (current_ + k) % nthreads_;
      if (fibers_[t]->state == State::Ready) {
        next = t;
        return true;
      }
    }
    return false;
  }

  // Suspends the current thread (already marked waiting) until a barrier or collective
  // releases it. With nothing runnable, control goes home, which reports the deadlock.
  void wait() {
    Fiber& me = *fibers_[current_];
    unsigned next = 0;
    void* fake_stack = nullptr;
    if (find_ready(next)) {
      enter(next);
      stack_switch_begin(&fake_stack, fibers_[next]->stack, kFiberStackBytes);
      ::swapcontext(&me.ctx, &fibers_[next]->ctx);
    } else {
      stack_switch_begin(&fake_stack, home_bottom_, home_size_);
      ::swapcontext(&me.ctx, &home_);
    }
    stack_switch_end(fake_stack, nullptr, nullptr);
  }

  void finish_collective(unsigned base, unsigned mask) {
    uint32_t votes = 0;
    for (unsigned l = 0; l < kWarpSize; ++l)
      if (((mask >> l) & 1u) != 0 && fibers_[base + l]->value != 0) votes |= 1u << l;
    for (unsigned l = 0; l < kWarpSize; ++l) {
      if (((mask >> l) & 1u) == 0) continue;
      Fiber& f = *fibers_[base + l];
      const unsigned w = static_cast<unsigned>(f.width), seg = l & ~(w - 1), pos = l & (w - 1);
      const unsigned arg = static_cast<unsigned>(f.operand);
      unsigned src = l;  // lanes whose source falls outside their segment keep their own value
      switch (f.op) {
        case WarpOp::Sync: break;
        case WarpOp::Shfl: src = seg + (arg & (w - 1)); break;
        case WarpOp::ShflUp:
          if (pos >= arg) src = l - arg;
          break;
        case WarpOp::ShflDown:
          if (arg < w && pos + arg < w) src = l + arg;
          break;
        case WarpOp::ShflXor:
          if (((l ^ arg) & ~(w - 1)) == seg) src = l ^ arg;
          break;
        case WarpOp::Ballot: f.result = votes; break;
        case WarpOp::Any: f.result = votes != 0; break;
        case WarpOp::All: f.result = votes == mask; break;
      }
      if (f.op == WarpOp::Shfl || f.op == WarpOp::ShflUp || f.op == WarpOp::ShflDown ||
          f.op == WarpOp::ShflXor) {
        if (((mask >> src) & 1u) == 0) {
          error_ = cat(op_name(f.op), " in lane ", l, " reads lane ", src,
                       ", which is not in the mask ", hex(mask));
          abandon();
        }
        f.result = fibers_[base + src]->value;
      }
    }
    for (unsigned l = 0; l < kWarpSize; ++l)
      if (((mask >> l) & 1u) != 0) fibers_[base + l]->state = State::Ready;
  }

  std::string deadlock_report(uint3 block) const {
    std::string at_barrier, exited, at_warp;
    unsigned n_barrier = 0, n_exited = 0, n_warp = 0;
    const auto note = [](std::string& list, unsigned& count, const std::string& what) {
      if (count++ < 4) {
        if (!list.empty()) list += ", ";
        list += what;
      }
    };
    for (unsigned t = 0; t < nthreads_; ++t) {
      const Fiber& f = *fibers_[t];
      if (f.state == State::AtBarrier) note(at_barrier, n_barrier, str(f.idx));
      if (f.state == State::Exited) note(exited, n_exited, str(f.idx));
      if (f.state == State::AtWarp)
        note(at_warp, n_warp, cat(str(f.idx), " in ", op_name(f.op), " mask ", hex(f.mask)));
    }
    std::string msg = cat("simt: deadlock in block ", str(block), " of ", nthreads_,
                          " threads: no thread can proceed.");
    if (n_barrier > 0) msg += cat(" At __syncthreads: ", n_barrier, " (", at_barrier, ").");
    if (n_warp > 0) msg += cat(" At a warp collective: ", n_warp, " (", at_warp, ").");
    if (n_exited > 0) msg += cat(" Exited: ", n_exited, " (", exited, ").");
    msg += " Every thread of a block must reach each __syncthreads, and every lane named in a "
           "warp collective's mask must reach it.";
    return msg;
  }

  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<SharedChunk> shared_;
  size_t shared_bytes_ = 0;
  unsigned nthreads_ = 0, current_ = 0, exited_ = 0, at_barrier_ = 0, barrier_true_ = 0;
  KernelBody body_ = nullptr;
  const void* params_ = nullptr;
  ucontext_t home_{};
  const void* home_bottom_ = nullptr;  // the launching thread's stack, for AddressSanitizer
  size_t home_size_ = 0;
  std::string error_;
};

// Entry of every fiber: the kernel body for one thread. Exceptions must not cross the fiber's
// bottom frame, so they end here and fail the launch.
inline void fiber_main() {
  Executor& ex = *t_running;
  const void* from_bottom = nullptr;
  size_t from_size = 0;
  stack_switch_end(nullptr, &from_bottom, &from_size);
  ex.started(from_bottom, from_size);
  try {
    ex.call_body();
  } catch (const std::exception& e) {
    ex.record_exception(e.what());
  } catch (...) {
    ex.record_exception("a non-standard exception");
  }
  ex.exit_current();
}

// The executor running the calling kernel thread; device functions used outside a kernel throw.
inline Executor& running() {
  if (t_running == nullptr)
    throw SimtError("simt: a device function was called outside a kernel launch");
  return *t_running;
}

}  // namespace detail

// Runs kernel(args...) over grid x block on this thread and returns when every block has
// finished (launches are synchronous; the stream is the caller's business). Each emulated thread
// receives its own copy of the arguments, converted to the kernel's parameter types.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_shared,
            Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "the kernel takes a different number of arguments");
  struct Bound {
    void (*fn)(Params...);
    std::tuple<std::decay_t<Params>...> params;
  };
  const Bound bound{kernel, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
  detail::Executor::for_this_thread().run(
      grid, block, dynamic_shared,
      [](const void* p) {
        const Bound& b = *static_cast<const Bound*>(p);
        std::apply(b.fn, b.params);
      },
      &bound);
}

// The running block's dynamic shared memory (the launch's dynamic_shared bytes, 64-byte aligned).
inline void* dynamic_shared_memory() { return detail::running().dynamic_shared(); }

}  // namespace s2dm::simt
