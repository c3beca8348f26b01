// A Backend that times every op of another one: it waits for the device before and after each
// call and adds the wall time to the op's row, keyed by op name and the first operand's shape.
// Waiting serialises host and device, so the rows show where device time goes, not overlap; the
// training-step benchmark prints them with --profile.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/backend.h"
#include "engine/cuda/device_runtime.h"

namespace s2dm::bench {

class OpProfiler final : public Backend {
 public:
  explicit OpProfiler(Backend& inner, int device) : inner_(inner), device_(device) {}

  struct Row {
    int64_t calls = 0;
    double seconds = 0;
  };
  const std::map<std::string, Row>& rows() const { return rows_; }
  void clear() { rows_.clear(); }

  // The rows, largest first, as milliseconds per step over `steps` steps.
  void print(int steps, double step_seconds) const {
    std::vector<std::pair<std::string, Row>> v(rows_.begin(), rows_.end());
    std::sort(v.begin(), v.end(),
              [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    double total = 0;
    for (const auto& [k, r] : v) total += r.seconds;
    fmt::print("op profile: {:.2f} ms of synchronised op time per step (unprofiled step {:.2f} ms)\n",
               total / steps * 1e3, step_seconds * 1e3);
    for (const auto& [k, r] : v) {
      if (r.seconds / total < 0.003) break;
      fmt::print("  {:8.3f} ms {:5.1f}% {:6.0f} calls  {}\n", r.seconds / steps * 1e3,
                 100 * r.seconds / total, static_cast<double>(r.calls) / steps, k);
    }
  }

  Device device() const override { return inner_.device(); }
  void* allocate(size_t n) override { return inner_.allocate(n); }
  void deallocate(void* p, size_t n) override { inner_.deallocate(p, n); }
  void copy_from_host(void* d, const void* s, size_t n) override {
    Timed t(*this, "copy_from_host", "");
    inner_.copy_from_host(d, s, n);
  }
  void copy_to_host(void* d, const void* s, size_t n) override {
    Timed t(*this, "copy_to_host", "");
    inner_.copy_to_host(d, s, n);
  }
  void fill(Tensor& out, double v) override {
    Timed t(*this, "fill", out.str());
    inner_.fill(out, v);
  }
  void copy(const Tensor& src, Tensor& dst) override {
    Timed t(*this, src.is_contiguous() ? "copy" : "copy strided", src.str());
    inner_.copy(src, dst);
  }
  void unary(UnaryOp op, const Tensor& x, Tensor& y) override {
    Timed t(*this, fmt::format("unary {}", static_cast<int>(op)), x.str());
    inner_.unary(op, x, y);
  }
  void unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, Tensor& dx) override {
    Timed t(*this, fmt::format("unary_backward {}", static_cast<int>(op)), x.str());
    inner_.unary_backward(op, x, dy, dx);
  }
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override {
    Timed t(*this, fmt::format("binary {}", static_cast<int>(op)), a.str() + " " + b.str());
    inner_.binary(op, a, b, out);
  }
  void scalar(ScalarOp op, const Tensor& x, double s, Tensor& y) override {
    Timed t(*this, fmt::format("scalar {}", static_cast<int>(op)), x.str());
    inner_.scalar(op, x, s, y);
  }
  void axpy(Tensor& y, double alpha, const Tensor& x) override {
    Timed t(*this, "axpy", x.str());
    inner_.axpy(y, alpha, x);
  }
  void sum_to(const Tensor& x, Tensor& out) override {
    Timed t(*this, "sum_to", x.str() + " -> " + out.str());
    inner_.sum_to(x, out);
  }
  double sum_squares(const Tensor& x) override {
    Timed t(*this, "sum_squares", x.str());
    return inner_.sum_squares(x);
  }
  void gemm(const Tensor& a, bool ta, const Tensor& b, bool tb, Tensor& c, double alpha,
            double beta) override {
    Timed t(*this, "gemm", fmt::format("{}{} {}{}", a.str(), ta ? "T" : "", b.str(), tb ? "T" : ""));
    inner_.gemm(a, ta, b, tb, c, alpha, beta);
  }
  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                      Conv2dParams p) override {
    Timed t(*this, "conv2d_forward", x.str() + " w " + w.str());
    inner_.conv2d_forward(x, w, bias, y, p);
  }
  void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                       Tensor& dbias, Conv2dParams p) override {
    Timed t(*this, "conv2d_backward", x.str() + " w " + w.str());
    inner_.conv2d_backward(x, w, dy, dx, dw, dbias, p);
  }
  void group_norm_forward(const Tensor& x, const Tensor& add, const Tensor& gamma,
                          const Tensor& beta, int groups, double eps, bool silu, Tensor& y,
                          Tensor& mean, Tensor& rstd) override {
    Timed t(*this, "group_norm_forward", x.str());
    inner_.group_norm_forward(x, add, gamma, beta, groups, eps, silu, y, mean, rstd);
  }
  void group_norm_backward(const Tensor& x, const Tensor& add, const Tensor& gamma,
                           const Tensor& beta, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, int groups, bool silu, Tensor& dx, Tensor& dgamma,
                           Tensor& dbeta) override {
    Timed t(*this, "group_norm_backward", x.str());
    inner_.group_norm_backward(x, add, gamma, beta, mean, rstd, dy, groups, silu, dx, dgamma,
                               dbeta);
  }
  void softmax_forward(const Tensor& x, Tensor& y) override {
    Timed t(*this, "softmax_forward", x.str());
    inner_.softmax_forward(x, y);
  }
  void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx) override {
    Timed t(*this, "softmax_backward", y.str());
    inner_.softmax_backward(y, dy, dx);
  }
  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                         Tensor& o, Tensor& lse) override {
    Timed t(*this, "attention_forward", q.str());
    inner_.attention_forward(q, k, v, scale, o, lse);
  }
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                          const Tensor& lse, const Tensor& d_o, double scale, Tensor& dq,
                          Tensor& dk, Tensor& dv) override {
    Timed t(*this, "attention_backward", q.str());
    inner_.attention_backward(q, k, v, o, lse, d_o, scale, dq, dk, dv);
  }
  void attention_channels_first_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                        double scale, Tensor& o, Tensor& lse) override {
    Timed t(*this, "attention_channels_first_forward", q.str());
    inner_.attention_channels_first_forward(q, k, v, scale, o, lse);
  }
  void attention_channels_first_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                         const Tensor& o, const Tensor& lse, const Tensor& d_o,
                                         double scale, Tensor& dq, Tensor& dk,
                                         Tensor& dv) override {
    Timed t(*this, "attention_channels_first_backward", q.str());
    inner_.attention_channels_first_backward(q, k, v, o, lse, d_o, scale, dq, dk, dv);
  }
  void upsample_nearest2x_forward(const Tensor& x, Tensor& y) override {
    Timed t(*this, "upsample_forward", x.str());
    inner_.upsample_nearest2x_forward(x, y);
  }
  void upsample_nearest2x_backward(const Tensor& dy, Tensor& dx) override {
    Timed t(*this, "upsample_backward", dx.str());
    inner_.upsample_nearest2x_backward(dy, dx);
  }
  void pad2d_forward(const Tensor& x, Pad2dParams p, Tensor& y) override {
    Timed t(*this, "pad2d_forward", x.str());
    inner_.pad2d_forward(x, p, y);
  }
  void pad2d_backward(const Tensor& dy, Pad2dParams p, Tensor& dx) override {
    Timed t(*this, "pad2d_backward", dx.str());
    inner_.pad2d_backward(dy, p, dx);
  }
  void dropout_forward(const Tensor& x, double p, uint64_t seed, uint64_t offset,
                       Tensor& y) override {
    Timed t(*this, "dropout_forward", x.str());
    inner_.dropout_forward(x, p, seed, offset, y);
  }
  void dropout_backward(const Tensor& dy, double p, uint64_t seed, uint64_t offset,
                        Tensor& dx) override {
    Timed t(*this, "dropout_backward", dy.str());
    inner_.dropout_backward(dy, p, seed, offset, dx);
  }
  void timestep_embedding_forward(const Tensor& tt, int64_t dim, Tensor& emb) override {
    Timed t(*this, "timestep_embedding_forward", tt.str());
    inner_.timestep_embedding_forward(tt, dim, emb);
  }
  void timestep_embedding_backward(const Tensor& tt, int64_t dim, const Tensor& demb,
                                   Tensor& dt) override {
    Timed t(*this, "timestep_embedding_backward", tt.str());
    inner_.timestep_embedding_backward(tt, dim, demb, dt);
  }
  void fill_uniform(Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) override {
    Timed t(*this, "fill_uniform", out.str());
    inner_.fill_uniform(out, seed, offset, lo, hi);
  }
  void fill_normal(Tensor& out, uint64_t seed, uint64_t offset, double mean,
                   double stddev) override {
    Timed t(*this, "fill_normal", out.str());
    inner_.fill_normal(out, seed, offset, mean, stddev);
  }
  void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v,
                 const AdamParams& p) override {
    Timed t(*this, "adam_step", param.str());
    inner_.adam_step(param, grad, m, v, p);
  }
  void ema_update(Tensor& ema, const Tensor& param, double decay) override {
    Timed t(*this, "ema_update", ema.str());
    inner_.ema_update(ema, param, decay);
  }
  void adam_ema_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, Tensor& ema,
                     const AdamParams& p, double ema_decay) override {
    Timed t(*this, "adam_ema_step", param.str());
    inner_.adam_ema_step(param, grad, m, v, ema, p, ema_decay);
  }
  void skip_loss(const Tensor& out, const Tensor& eps1, const Tensor& eps2, const Tensor& c,
                 const Tensor& w0, const Tensor& wskip, double inv_reduce, Tensor& l0,
                 Tensor& lskip, Tensor& loss, Tensor& dout) override {
    Timed t(*this, "skip_loss", out.str());
    inner_.skip_loss(out, eps1, eps2, c, w0, wskip, inv_reduce, l0, lskip, loss, dout);
  }

 private:
  struct Timed {
    Timed(OpProfiler& owner, std::string op, const std::string& shape)
        : p(owner), key(shape.empty() ? std::move(op) : op + "  " + shape) {
      cuda::synchronize(p.device_);
      t0 = std::chrono::steady_clock::now();
    }
    ~Timed() {
      cuda::synchronize(p.device_);
      Row& r = p.rows_[key];
      ++r.calls;
      r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    OpProfiler& p;
    std::string key;
    std::chrono::steady_clock::time_point t0;
  };

  Backend& inner_;
  int device_;
  std::map<std::string, Row> rows_;
};

}  // namespace s2dm::bench
