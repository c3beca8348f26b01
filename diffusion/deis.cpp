// DEIS tAB coefficients by quadrature and the multistep sampling loop.
#include "diffusion/deis.h"

#include <array>
#include <cmath>
#include <deque>
#include <numbers>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops/elementwise.h"

namespace s2dm {

namespace {

constexpr int kGaussPoints = 12;

struct GaussLegendre {
  std::array<double, kGaussPoints> x{}, w{};
};

// Nodes and weights on [−1, 1] by Newton's method on the Legendre polynomial P_n.
GaussLegendre make_gauss_legendre() {
  GaussLegendre g;
  constexpr int n = kGaussPoints;
  for (int i = 0; i < n; ++i) {
    double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1.0, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1.0);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-16) break;
    }
    g.x[static_cast<size_t>(i)] = z;
    g.w[static_cast<size_t>(i)] = 2.0 / ((1.0 - z * z) * dp * dp);
  }
  return g;
}

const GaussLegendre& gauss_legendre() {
  static const GaussLegendre g = make_gauss_legendre();
  return g;
}

double rho_of(double alpha_bar) { return std::sqrt((1.0 - alpha_bar) / alpha_bar); }

// Lagrange basis polynomial j through `nodes`, evaluated at tau.
double lagrange(const std::vector<int64_t>& nodes, size_t j, double tau) {
  double v = 1.0;
  for (size_t m = 0; m < nodes.size(); ++m) {
    if (m == j) continue;
    v *= (tau - static_cast<double>(nodes[m])) /
         static_cast<double>(nodes[j] - nodes[m]);
  }
  return v;
}

// ∫ ℓ_j(τ(ρ)) dρ over the segment τ ∈ [k, k+1], for every j.
void integrate_segment(const NoiseSchedule& schedule, int64_t k, const std::vector<int64_t>& nodes,
                       std::vector<double>& acc) {
  const double a_lo = schedule.alpha_bar(k), a_hi = schedule.alpha_bar(k + 1);
  const double l_lo = std::log(a_lo), l_hi = std::log(a_hi);
  const double r_lo = rho_of(a_lo), r_hi = rho_of(a_hi);
  if (!(l_hi < l_lo) || !(r_hi > r_lo)) return;  // a flat piece of the schedule has no length
  const double half = 0.5 * (r_hi - r_lo), mid = 0.5 * (r_hi + r_lo);
  const auto& g = gauss_legendre();
  for (size_t q = 0; q < g.x.size(); ++q) {
    const double rho = mid + half * g.x[q];
    // log ᾱ(ρ) = −log(1+ρ²) is linear in τ on this segment.
    const double tau = static_cast<double>(k) + (-std::log1p(rho * rho) - l_lo) / (l_hi - l_lo);
    for (size_t j = 0; j < nodes.size(); ++j) acc[j] += half * g.w[q] * lagrange(nodes, j, tau);
  }
}

}  // namespace

std::vector<DeisStep> deis_coefficients(const NoiseSchedule& schedule,
                                        const std::vector<int64_t>& seq, int order) {
  detail::check_steps("deis", schedule, seq);
  S2DM_CHECK(order >= 0 && order <= 3, "deis: order must be 0, 1, 2 or 3, got {}", order);
  std::vector<int64_t> grid;  // distinct steps, largest first
  for (size_t i = seq.size(); i-- > 0;) {
    if (grid.empty() || grid.back() != seq[i]) grid.push_back(seq[i]);
  }
  std::vector<DeisStep> steps;
  for (size_t k = 0; k < grid.size(); ++k) {
    DeisStep st;
    st.t = grid[k];
    st.s = k + 1 < grid.size() ? grid[k + 1] : -1;
    const double a_t = schedule.alpha_bar(st.t), a_s = schedule.alpha_bar(st.s);
    st.psi = std::sqrt(a_s / a_t);
    const size_t r = std::min<size_t>(static_cast<size_t>(order), k);
    for (size_t j = 0; j <= r; ++j) st.nodes.push_back(grid[k - j]);
    std::vector<double> acc(st.nodes.size(), 0.0);
    for (int64_t seg = st.s; seg < st.t; ++seg) integrate_segment(schedule, seg, st.nodes, acc);
    // The pieces run from s up to t; the step integrates from t down to s.
    for (double v : acc) st.coef.push_back(-std::sqrt(a_s) * v);
    steps.push_back(std::move(st));
  }
  return steps;
}

SampleResult deis_sample(const EpsModel& model, const NoiseSchedule& schedule, const Tensor& x_T,
                         const std::vector<int64_t>& seq, int order) {
  detail::check_start("deis_sample", x_T);
  const auto steps = deis_coefficients(schedule, seq, order);
  NoGradGuard no_grad;
  SampleResult r;
  Tensor x = x_T.detach();
  std::deque<Tensor> history;  // front = newest
  for (const DeisStep& st : steps) {
    history.push_front(
        detail::call_model("deis_sample", model, x, static_cast<double>(st.t), r.nfe));
    if (history.size() > 4) history.pop_back();
    Tensor next = mul_scalar(x, st.psi);
    for (size_t j = 0; j < st.coef.size(); ++j) {
      next = add(next, mul_scalar(history[j], st.coef[j]));
    }
    x = next;
  }
  r.x0 = x;
  return r;
}

}  // namespace s2dm
