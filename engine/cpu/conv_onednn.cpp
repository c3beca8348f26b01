// oneDNN convolutions: primitives are created once per geometry and kept (creation costs far more
// than a small convolution), with memory format `any` so oneDNN lays out data for its fastest
// kernel (blocked formats such as nChw16c on AVX-512); our plain NCHW/OIHW buffers are reordered
// into and out of those layouts around each call, as PyTorch does for plain tensors. Two of those
// reorders are saved in training: the forward keeps its reordered input for the weight gradient
// (the input is cold by then, so this reorder cost the most), and one reorder of dy serves both
// backward passes. oneDNN runs on the same OpenMP runtime as the rest of the backend (Debian
// builds it with OMP threading).
//
// 3x3 stride-1 convolutions with enough work run oneDNN's Winograd F(4x4, 3x3) kernels where it
// has them (AVX-512): 1.2-2.5x its direct kernels at the UNet's shapes, forward and both backward
// passes. Its float32 rounding differs from direct summation by about 2e-6 relative
// (tests/test_conv.cpp bounds it). S2DM_CONV=direct keeps every convolution on the direct kernels.
#include "engine/cpu/conv_onednn.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <dnnl.hpp>
#include <omp.h>

#include "engine/cpu/conv3x3_winograd.h"
#include "engine/error.h"

namespace s2dm::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// Winograd pays for its transforms once there are 32 or more 4x4 output tiles. At 64 and more
// it ran 1.2-2.5x faster than direct, at 32 1.17x on average over three runs (0.74-1.43x), and
// at 16 it ran 1.1-1.7x slower, at 1 and 2 threads alike. It also needs 32 or more input
// channels: on an image's 1 or 3 channels (padded to 16 by oneDNN) its forward ran 5-13x
// slower, and on 8 or 16 channels slower too (docs/benchmarks.md, "Winograd";
// bench_cpu_conv_gemm --winograd). A fixed rule, not a timing at start, so a run's arithmetic
// does not depend on how busy the machine was. oneDNN's own choice (convolution_auto) measured
// worse: direct at batch 4, 32x32 (2x slower), Winograd at batch 16, 4x4 and on 1 channel.
bool winograd_pays(const ConvGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.stride == 1 && g.ci >= 32 &&
         g.n * ((g.ho + 3) / 4) * ((g.wo + 3) / 4) >= 32;
}

// Every geometry field, the path and the thread count, as a map key: oneDNN splits a
// convolution's work for the OpenMP thread count at creation, and a primitive made for one
// thread runs on one thread ever after, even when more are allowed later.
auto key_of(const ConvGeometry& g) {
  return std::make_tuple(g.n, g.ci, g.h, g.w, g.co, g.kh, g.kw, g.stride, g.pad_h, g.pad_w,
                         omp_get_max_threads(), static_cast<int>(conv_path()));
}

memory::dims dims(std::initializer_list<int64_t> v) { return memory::dims(v); }

// oneDNN's right/bottom padding for our output size (smaller than `pad` when the stride does not
// divide the padded extent; never negative where onednn_conv_applies).
int64_t pad_end(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return (out - 1) * stride + k - in - pad;
}

// A user buffer (plain layout) and, when the primitive wants another layout, the primitive's own
// buffer with the reorder between them.
struct Operand {
  memory::desc user_md, prim_md;
  bool same = true;
  memory prim;  // the primitive's buffer when !same

  Operand() = default;
  Operand(const memory::desc& user, const memory::desc& wanted)
      : user_md(user), prim_md(wanted), same(user == wanted) {
    if (!same) prim = memory(wanted, cpu_engine());
  }
  // The memory the primitive reads: the user's data, reordered first when needed.
  memory input(const void* data, dnnl::stream& s) {
    memory user(user_md, cpu_engine(), const_cast<void*>(data));
    if (same) return user;
    dnnl::reorder(user, prim).execute(s, user, prim);
    return prim;
  }
  // The memory the primitive writes; finish() copies it into the user's buffer.
  memory output(void* data) {
    return same ? memory(user_md, cpu_engine(), data) : prim;
  }
  void finish(void* data, dnnl::stream& s) {
    if (same) return;
    memory user(user_md, cpu_engine(), data);
    dnnl::reorder(prim, user).execute(s, prim, user);
  }
};

struct Primitives {
  std::mutex mutex;  // one call at a time uses the cached buffers
  dnnl::algorithm algorithm;  // the forward's: Winograd or direct
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_forward fwd;
  Operand f_src, f_w, f_dst;
  // Backward, created on first use.
  bool has_bwd = false;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights::primitive_desc bwd_w_pd;
  dnnl::convolution_backward_weights bwd_w;
  Operand d_diff_dst, d_w, d_diff_src, w_src, w_diff_dst, w_diff_w;
  memory diff_bias;  // backward weights always computes the bias gradient too
  // Reordered inputs kept from forward calls for their weight gradients (training saves every
  // convolution's input until backward), and buffers of expired ones for reuse.
  struct SavedInput {
    std::weak_ptr<const void> owner;
    const float* x;
    memory copy;
  };
  std::vector<SavedInput> saved;
  std::vector<memory> spare;
};

std::atomic<int64_t> saved_count{0};

bool same_owner(const std::weak_ptr<const void>& a, const std::shared_ptr<const void>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

// Drops the saved inputs whose owners are gone (their buffers become spares), and any earlier
// copy of this x (a newer forward of the same input replaces it).
void prune_saved(Primitives& p, const float* x, const std::shared_ptr<const void>& owner) {
  auto dead = [&](const Primitives::SavedInput& s) {
    return s.owner.expired() || (s.x == x && same_owner(s.owner, owner));
  };
  for (auto it = p.saved.begin(); it != p.saved.end();) {
    if (dead(*it)) {
      p.spare.push_back(it->copy);
      it = p.saved.erase(it);
      --saved_count;
    } else {
      ++it;
    }
  }
}

struct Descs {
  memory::desc src, w, bias, dst;
  memory::dims strides, pad_l, pad_r;
};

Descs descs_of(const ConvGeometry& g, bool any) {
  const tag t4 = any ? tag::any : tag::nchw, tw = any ? tag::any : tag::oihw;
  Descs d;
  d.src = memory::desc(dims({g.n, g.ci, g.h, g.w}), dt::f32, t4);
  d.w = memory::desc(dims({g.co, g.ci, g.kh, g.kw}), dt::f32, tw);
  d.bias = memory::desc(dims({g.co}), dt::f32, tag::x);
  d.dst = memory::desc(dims({g.n, g.co, g.ho, g.wo}), dt::f32, t4);
  d.strides = dims({g.stride, g.stride});
  d.pad_l = dims({g.pad_h, g.pad_w});
  d.pad_r = dims({pad_end(g.h, g.ho, g.kh, g.stride, g.pad_h),
                  pad_end(g.w, g.wo, g.kw, g.stride, g.pad_w)});
  return d;
}

Primitives& primitives_for(const ConvGeometry& g) {
  static std::mutex mutex;
  static std::map<decltype(key_of(g)), std::unique_ptr<Primitives>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[key_of(g)];
  if (slot) return *slot;
  auto p = std::make_unique<Primitives>();
  const Descs a = descs_of(g, true), u = descs_of(g, false);
  auto forward_pd = [&](dnnl::algorithm alg) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, a.src, a.w, a.bias,
                                        a.dst, a.strides, a.pad_l, a.pad_r),
        cpu_engine());
  };
  p->algorithm = dnnl::algorithm::convolution_direct;
  const ConvPath path = conv_path();
  if (path == ConvPath::onednn_winograd || (path == ConvPath::onednn_auto && winograd_pays(g))) {
    try {  // oneDNN has no Winograd below AVX-512, nor for some geometries
      p->fwd_pd = forward_pd(dnnl::algorithm::convolution_winograd);
      p->algorithm = dnnl::algorithm::convolution_winograd;
    } catch (const dnnl::error&) {
    }
  }
  if (p->algorithm == dnnl::algorithm::convolution_direct)
    p->fwd_pd = forward_pd(dnnl::algorithm::convolution_direct);
  p->fwd = dnnl::convolution_forward(p->fwd_pd);
  p->f_src = Operand(u.src, p->fwd_pd.src_desc());
  p->f_w = Operand(u.w, p->fwd_pd.weights_desc());
  p->f_dst = Operand(u.dst, p->fwd_pd.dst_desc());
  slot = std::move(p);
  return *slot;
}

void ensure_backward(const ConvGeometry& g, Primitives& p) {
  if (p.has_bwd) return;
  const Descs a = descs_of(g, true), u = descs_of(g, false);
  // The forward's algorithm, falling back to direct should oneDNN lack a Winograd pass.
  auto with_fallback = [&](auto create) {
    try {
      return create(p.algorithm);
    } catch (const dnnl::error&) {
      if (p.algorithm == dnnl::algorithm::convolution_direct) throw;
      return create(dnnl::algorithm::convolution_direct);
    }
  };
  p.bwd_data_pd = with_fallback([&](dnnl::algorithm alg) {
    return dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(alg, a.src, a.w, a.dst, a.strides, a.pad_l, a.pad_r),
        cpu_engine(), p.fwd_pd);
  });
  p.bwd_data = dnnl::convolution_backward_data(p.bwd_data_pd);
  p.bwd_w_pd = with_fallback([&](dnnl::algorithm alg) {
    return dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(alg, a.src, a.w, a.bias, a.dst, a.strides,
                                                 a.pad_l, a.pad_r),
        cpu_engine(), p.fwd_pd);
  });
  p.bwd_w = dnnl::convolution_backward_weights(p.bwd_w_pd);
  p.d_diff_dst = Operand(u.dst, p.bwd_data_pd.diff_dst_desc());
  p.d_w = Operand(u.w, p.bwd_data_pd.weights_desc());
  p.d_diff_src = Operand(u.src, p.bwd_data_pd.diff_src_desc());
  p.w_src = Operand(u.src, p.bwd_w_pd.src_desc());
  p.w_diff_dst = Operand(u.dst, p.bwd_w_pd.diff_dst_desc());
  p.w_diff_w = Operand(u.w, p.bwd_w_pd.diff_weights_desc());
  p.diff_bias = memory(p.bwd_w_pd.diff_bias_desc(), cpu_engine());
  p.has_bwd = true;
}

// The forward's reordered copy of this x, when it kept one and the weights pass reads that
// layout; the copy's buffer becomes a spare (one backward per forward).
memory take_saved(Primitives& p, const float* x, const std::shared_ptr<const void>& owner) {
  if (!owner || p.w_src.prim_md != p.f_src.prim_md) return memory();
  for (auto it = p.saved.begin(); it != p.saved.end(); ++it) {
    if (it->x != x || it->owner.expired() || !same_owner(it->owner, owner)) continue;
    memory copy = it->copy;
    p.spare.push_back(copy);
    p.saved.erase(it);
    --saved_count;
    return copy;
  }
  return memory();
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(cpu_engine());
  return s;
}

[[noreturn]] void onednn_failed(const char* pass, const dnnl::error& e) {
  fail("conv2d (oneDNN) {} failed: {} (status {}); S2DM_CONV=direct runs oneDNN's direct kernels "
       "instead, S2DM_CONV=native the built-in convolutions",
       pass, e.what(), static_cast<int>(e.status));
}

// S2DM_CONV, read once: unset or "auto" (the default), "direct", "winograd" or "native".
ConvPath path_from_env() {
  const char* v = std::getenv("S2DM_CONV");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "auto") == 0) return ConvPath::onednn_auto;
  if (std::strcmp(v, "direct") == 0) return ConvPath::onednn_direct;
  if (std::strcmp(v, "winograd") == 0) return ConvPath::onednn_winograd;
  if (std::strcmp(v, "s2dm-winograd") == 0) return ConvPath::s2dm_winograd;
  if (std::strcmp(v, "native") == 0) return ConvPath::native;
  fail("S2DM_CONV='{}' is not a convolution path: use auto (oneDNN, Winograd for 3x3 where it "
       "pays; the default), direct (oneDNN's direct kernels only), winograd (Winograd wherever "
       "there is one), s2dm-winograd (s2dm's Winograd for every 3x3 stride-1 convolution) or "
       "native (im2col + OpenBLAS)",
       v);
}

std::atomic<ConvPath>& path_slot() {
  static std::atomic<ConvPath> path{path_from_env()};
  return path;
}

}  // namespace

void set_conv_path(ConvPath path) { path_slot().store(path); }
ConvPath conv_path() { return path_slot().load(std::memory_order_relaxed); }

std::string onednn_isa() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
  }
}

// The ISA values are bit sets, each containing the ones it extends.
bool onednn_has_avx512_core() {
  const unsigned isa = dnnl_get_effective_cpu_isa();
  return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

std::string conv_library() {
  if (conv_path() == ConvPath::native) return "im2col + OpenBLAS (S2DM_CONV=native)";
  const dnnl_version_t* v = dnnl_version();
  std::string lib = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                    std::to_string(v->patch) + " on " + onednn_isa();
  // oneDNN reads either name; a limit set by hand is part of what the numbers measured.
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"})
    if (const char* limit = std::getenv(name); limit != nullptr && *limit != '\0')
      lib += std::string(" (") + name + "=" + limit + ")";
  switch (conv_path()) {
    case ConvPath::onednn_direct: return lib + ", direct kernels (S2DM_CONV=direct)";
    case ConvPath::onednn_winograd:
      return lib + (onednn_has_avx512_core()
                        ? ", Winograd wherever it has it (S2DM_CONV=winograd)"
                        : "; s2dm's Winograd for every 3x3 (S2DM_CONV=winograd)");
    case ConvPath::s2dm_winograd:
      return lib + "; s2dm's Winograd for every 3x3 (S2DM_CONV=s2dm-winograd)";
    default:
      return lib + (onednn_has_avx512_core()
                        ? ", Winograd for 3x3 where it pays"
                        : ", direct kernels; s2dm's Winograd for 3x3 where it pays (oneDNN's "
                          "needs AVX-512)");
  }
}

int s2dm_winograd_tile(const ConvGeometry& g) {
  const bool shape = g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad_h == 1 && g.pad_w == 1 &&
                     g.n > 0 && g.ci > 0 && g.co > 0;
  if (!shape) return 0;
  const int pays = winograd_tile({g.n, g.ci, g.co, g.h, g.w});
  switch (conv_path()) {
    case ConvPath::s2dm_winograd: return pays != 0 ? pays : 4;
    case ConvPath::onednn_winograd: return onednn_has_avx512_core() ? 0 : (pays != 0 ? pays : 4);
    case ConvPath::onednn_auto: return onednn_has_avx512_core() ? 0 : pays;
    default: return 0;
  }
}

std::string onednn_conv_kernels(const ConvGeometry& g) {
  if (const int m = s2dm_winograd_tile(g); m != 0) {
    const std::string k = "s2dm_wino_" + std::to_string(m) + "x3";
    return k + " | " + k + " | " + k;
  }
  if (!onednn_conv_applies(g)) return "";
  try {
    Primitives& p = primitives_for(g);
    std::lock_guard<std::mutex> lock(p.mutex);
    ensure_backward(g, p);
    return std::string(p.fwd_pd.impl_info_str()) + " | " + p.bwd_data_pd.impl_info_str() +
           " | " + p.bwd_w_pd.impl_info_str();
  } catch (const dnnl::error& e) {
    onednn_failed("setup", e);
  }
}

int64_t onednn_saved_inputs() { return saved_count.load(); }

bool onednn_conv_applies(const ConvGeometry& g) {
  if (conv_path() == ConvPath::native) return false;
  return g.n > 0 && g.ho > 0 && g.wo > 0 && pad_end(g.h, g.ho, g.kh, g.stride, g.pad_h) >= 0 &&
         pad_end(g.w, g.wo, g.kw, g.stride, g.pad_w) >= 0;
}

void onednn_conv_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                         float* y, const std::shared_ptr<const void>& x_owner) {
  try {
    Primitives& p = primitives_for(g);
    std::lock_guard<std::mutex> lock(p.mutex);
    dnnl::stream& s = stream();
    memory src;
    // Keep the reordered x when the weights pass can read it (not known before the first
    // backward: then keep it and see).
    const bool keep =
        x_owner && !p.f_src.same && (!p.has_bwd || p.w_src.prim_md == p.f_src.prim_md);
    if (keep) {
      prune_saved(p, x, x_owner);
      memory copy;
      if (p.spare.empty()) {
        copy = memory(p.f_src.prim_md, cpu_engine());
      } else {
        copy = p.spare.back();
        p.spare.pop_back();
      }
      memory user(p.f_src.user_md, cpu_engine(), const_cast<float*>(x));
      dnnl::reorder(user, copy).execute(s, user, copy);
      p.saved.push_back({x_owner, x, copy});
      ++saved_count;
      src = copy;
    } else {
      src = p.f_src.input(x, s);
    }
    memory wm = p.f_w.input(w, s), dst = p.f_dst.output(y);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm},
                                         {DNNL_ARG_DST, dst}};
    std::vector<float> zeros;
    if (bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS,
                   memory(p.fwd_pd.bias_desc(), cpu_engine(), const_cast<float*>(bias)));
    } else {
      zeros.assign(static_cast<size_t>(g.co), 0.0f);
      args.emplace(DNNL_ARG_BIAS, memory(p.fwd_pd.bias_desc(), cpu_engine(), zeros.data()));
    }
    p.fwd.execute(s, args);
    p.f_dst.finish(y, s);
    s.wait();
  } catch (const dnnl::error& e) {
    onednn_failed("forward", e);
  }
}

void onednn_conv_backward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                          float* dx, float* dw, float* dbias,
                          const std::shared_ptr<const void>& x_owner) {
  try {
    Primitives& p = primitives_for(g);
    std::lock_guard<std::mutex> lock(p.mutex);
    ensure_backward(g, p);
    dnnl::stream& s = stream();
    // dy in the backward-data layout; the weights pass reuses it when it wants the same layout
    // (the usual case), which saves one activation-sized reorder per convolution.
    memory ddst_data;
    if (dx != nullptr) {
      memory ddst = p.d_diff_dst.input(dy, s), wm = p.d_w.input(w, s),
             dsrc = p.d_diff_src.output(dx);
      ddst_data = ddst;
      p.bwd_data.execute(s, {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wm},
                             {DNNL_ARG_DIFF_SRC, dsrc}});
      p.d_diff_src.finish(dx, s);
    }
    if (dw != nullptr || dbias != nullptr) {
      std::vector<float> dw_scratch;
      float* dw_out = dw;
      if (dw_out == nullptr) {
        dw_scratch.resize(static_cast<size_t>(g.co * g.ci * g.kh * g.kw));
        dw_out = dw_scratch.data();
      }
      const bool reuse = ddst_data && p.d_diff_dst.prim_md == p.w_diff_dst.prim_md;
      memory src = take_saved(p, x, x_owner);
      if (!src) src = p.w_src.input(x, s);
      memory ddst = reuse ? ddst_data : p.w_diff_dst.input(dy, s), dwm = p.w_diff_w.output(dw_out);
      memory db = dbias != nullptr ? memory(p.bwd_w_pd.diff_bias_desc(), cpu_engine(), dbias)
                                   : p.diff_bias;
      p.bwd_w.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst},
                          {DNNL_ARG_DIFF_WEIGHTS, dwm}, {DNNL_ARG_DIFF_BIAS, db}});
      p.w_diff_w.finish(dw_out, s);
    }
    s.wait();
  } catch (const dnnl::error& e) {
    onednn_failed("backward", e);
  }
}

}  // namespace s2dm::cpu
