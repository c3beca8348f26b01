// The profiling wrapper: a Backend whose every op is generated from S2DM_BACKEND_OPS.
#include "engine/op_profile.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>

#include <fmt/format.h>

#include "engine/backend.h"
#ifdef S2DM_HAVE_CUDA
#include <nvtx3/nvToolsExt.h>

#include "engine/cuda/device_runtime.h"
#endif

namespace s2dm {

namespace {

struct Profile {
  std::mutex mutex;
  std::map<std::string, OpProfileRow> rows;
  OpProfileOptions options;
};
Profile& profile() {
  static Profile p;
  return p;
}
std::atomic<bool> g_enabled{false};

// "name[ op][  shape]": the first elementwise op and the first defined tensor among the arguments.
template <typename... Args>
std::string op_key(const char* name, const Args&... args) {
  std::string op, shape;
  const auto visit = [&](const auto& a) {
    using A = std::decay_t<decltype(a)>;
    if constexpr (std::is_same_v<A, UnaryOp> || std::is_same_v<A, BinaryOp> ||
                  std::is_same_v<A, ScalarOp>) {
      if (op.empty()) op = op_name(a);
    } else if constexpr (std::is_same_v<A, Tensor>) {
      if (shape.empty() && a.defined()) shape = a.str();
    }
  };
  (visit(args), ...);
  std::string key = name;
  if (!op.empty()) key += " " + op;
  if (!shape.empty()) key += "  " + shape;
  return key;
}

class ProfiledBackend final : public Backend {
 public:
  explicit ProfiledBackend(Backend& inner) : inner_(inner) {}

  Device device() const override { return inner_.device(); }
  void* allocate(size_t n) override { return inner_.allocate(n); }
  void deallocate(void* p, size_t n) override { inner_.deallocate(p, n); }
  void copy_from_host(void* d, const void* s, size_t n) override {
    Scope scope(*this, "copy_from_host");
    inner_.copy_from_host(d, s, n);
  }
  void copy_to_host(void* d, const void* s, size_t n) override {
    Scope scope(*this, "copy_to_host");
    inner_.copy_to_host(d, s, n);
  }

#define S2DM_UNPAREN(...) __VA_ARGS__
#define S2DM_PROFILED_OP(family, ret, name, params, args)   \
  ret name params override {                                \
    Scope scope(*this, op_key(#name, S2DM_UNPAREN args));   \
    return inner_.name args;                                \
  }
  S2DM_BACKEND_OPS(S2DM_PROFILED_OP)
#undef S2DM_PROFILED_OP
#undef S2DM_UNPAREN

 private:
  // Times (and marks) one op from construction to destruction.
  class Scope {
   public:
    Scope(ProfiledBackend& owner, std::string key) : owner_(owner), key_(std::move(key)) {
      const OpProfileOptions& o = profile().options;
      timing_ = o.timing;
      nvtx_ = o.nvtx && owner_.device().type == DeviceType::CUDA;
#ifdef S2DM_HAVE_CUDA
      if (nvtx_) nvtxRangePushA(key_.c_str());
#endif
      if (timing_) {
        owner_.synchronize();
        t0_ = std::chrono::steady_clock::now();
      }
    }
    ~Scope() {
      double s = 0;
      if (timing_) {
        owner_.synchronize();
        s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
      }
      {
        std::lock_guard<std::mutex> lock(profile().mutex);
        OpProfileRow& r = profile().rows[key_];
        r.key = key_;
        ++r.calls;
        r.seconds += s;
      }
#ifdef S2DM_HAVE_CUDA
      if (nvtx_) nvtxRangePop();
#endif
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ProfiledBackend& owner_;
    std::string key_;
    bool timing_ = false, nvtx_ = false;
    std::chrono::steady_clock::time_point t0_;
  };

  void synchronize() {
#ifdef S2DM_HAVE_CUDA
    if (inner_.device().type == DeviceType::CUDA) cuda::synchronize(inner_.device().index);
#endif
  }

  Backend& inner_;
};

}  // namespace

void enable_op_profile(OpProfileOptions options) {
  profile().options = options;
  g_enabled.store(true);
}
void disable_op_profile() { g_enabled.store(false); }
bool op_profile_enabled() { return g_enabled.load(std::memory_order_relaxed); }

// Called by backend_for while profiling is on: one wrapper per backend, kept for the process.
Backend& profiled(Backend& inner) {
  static std::mutex mutex;
  static std::map<Backend*, std::unique_ptr<ProfiledBackend>> wrappers;
  std::lock_guard<std::mutex> lock(mutex);
  auto& w = wrappers[&inner];
  if (!w) w = std::make_unique<ProfiledBackend>(inner);
  return *w;
}

std::vector<OpProfileRow> op_profile_rows() {
  std::vector<OpProfileRow> v;
  {
    std::lock_guard<std::mutex> lock(profile().mutex);
    for (const auto& [k, r] : profile().rows) v.push_back(r);
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  return v;
}

void clear_op_profile() {
  std::lock_guard<std::mutex> lock(profile().mutex);
  profile().rows.clear();
}

std::string format_op_profile(int steps, double step_seconds) {
  const auto rows = op_profile_rows();
  double total = 0;
  for (const auto& r : rows) total += r.seconds;
  const double n = steps > 0 ? steps : 1;
  std::string out =
      fmt::format("op profile: {:.2f} ms of synchronised op time per step", total / n * 1e3);
  if (step_seconds > 0) out += fmt::format(" (un-profiled step {:.2f} ms)", step_seconds * 1e3);
  out += "\n";
  for (const auto& r : rows) {
    if (total <= 0 || r.seconds / total < 0.003) break;
    out += fmt::format("  {:8.3f} ms {:5.1f}% {:6.0f} calls  {}\n", r.seconds / n * 1e3,
                       100 * r.seconds / total, static_cast<double>(r.calls) / n, r.key);
  }
  return out;
}

}  // namespace s2dm
