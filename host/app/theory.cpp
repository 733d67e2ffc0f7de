// theory.cpp — Gauss–Hermite quadrature and the mean-field recursions of theory.h.
#include "host/app/theory.h"

#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>

#include "host/app/data_source.h"
#include "kernels/init.h"

namespace isc {
namespace {

double f(const ActivationSpec& a, double s) { return activate_exact(a, s); }
double df(const ActivationSpec& a, double s) { return activate_derivative_exact(a, s); }

template <class G>
double expect(const Quadrature& g, double m, double v, G&& fn) {
  const double sd = std::sqrt(std::max(v, 0.0));
  double e = 0;
  for (std::size_t i = 0; i < g.x.size(); ++i) e += g.w[i] * fn(m + sd * g.x[i]);
  return e;
}

}  // namespace

Quadrature gauss_hermite(int n) {
  // Physicists' Hermite nodes by Newton iteration on the orthonormal recurrence (Numerical
  // Recipes' gauher), then rescaled to the standard normal: x -> sqrt(2) x, w -> w / sqrt(pi).
  Quadrature q;
  q.x.assign(static_cast<std::size_t>(n), 0.0);
  q.w.assign(static_cast<std::size_t>(n), 0.0);
  const double pim4 = 0.7511255444649425;  // pi^(-1/4)
  const int m = (n + 1) / 2;
  double z = 0, pp = 0;
  for (int i = 0; i < m; ++i) {
    if (i == 0)
      z = std::sqrt(double(2 * n + 1)) - 1.85575 * std::pow(double(2 * n + 1), -0.16667);
    else if (i == 1)
      z -= 1.14 * std::pow(double(n), 0.426) / z;
    else if (i == 2)
      z = 1.86 * z - 0.86 * q.x[0];
    else if (i == 3)
      z = 1.91 * z - 0.91 * q.x[1];
    else
      z = 2.0 * z - q.x[static_cast<std::size_t>(i - 2)];
    int it = 0;
    for (; it < 100; ++it) {
      double p1 = pim4, p2 = 0.0;
      for (int j = 0; j < n; ++j) {
        const double p3 = p2;
        p2 = p1;
        p1 = z * std::sqrt(2.0 / (j + 1)) * p2 - std::sqrt(double(j) / (j + 1)) * p3;
      }
      pp = std::sqrt(2.0 * n) * p2;
      const double z1 = z;
      z = z1 - p1 / pp;
      if (std::fabs(z - z1) <= 1e-14) break;
    }
    if (it == 100) throw std::runtime_error("gauss_hermite: no convergence");
    q.x[static_cast<std::size_t>(i)] = z;
    q.x[static_cast<std::size_t>(n - 1 - i)] = -z;
    q.w[static_cast<std::size_t>(i)] = q.w[static_cast<std::size_t>(n - 1 - i)] = 2.0 / (pp * pp);
  }
  for (std::size_t i = 0; i < q.x.size(); ++i) {
    q.x[i] *= std::sqrt(2.0);
    q.w[i] /= std::sqrt(M_PI);
  }
  return q;
}

double activation_value(const ActivationSpec& a, double s) { return f(a, s); }

namespace {
template <bool Odd, class Fn>
double pair_expectation_of(Fn&& f, double m, double q, double rho, const Quadrature& g) {
  // u = sqrt(q) z1, v = sqrt(q) (rho z1 + sqrt(1 - rho^2) z2), both shifted by m.
  // Uncorrelated (rho = 0), an odd f and m = 0: E[f(u) f(v)] = E[f(u)] E[f(v)] = 0 exactly. The
  // sums below would give rounding noise instead (about 1e-34 for tanh), a correlation that is not
  // 0 in the next layer, and so its full double sum: that was half of the output thread's time in a
  // sweep of 1,000 small tanh networks (docs/benchmarks.md), for a zero.
  if (Odd && rho == 0.0 && m == 0.0) return 0.0;
  const double sq = std::sqrt(std::max(q, 0.0)), r2 = std::sqrt(std::max(0.0, 1.0 - rho * rho));
  // Nodes whose weight is below 1e-22 (|z| beyond about 10) are left out of this double sum: their
  // terms, even for an unbounded f (ReLU: |f| < 20 sqrt(q) there), change the result by less than
  // its rounding, and there are about a third of them (96 nodes: 3,600 terms instead of 9,216).
  thread_local std::vector<std::size_t> used;
  used.clear();
  for (std::size_t i = 0; i < g.x.size(); ++i)
    if (g.w[i] >= 1e-22) used.push_back(i);
  // With rho = 0 (uncorrelated inputs in the first layer) every inner sum is the same one, bit for
  // bit (rho * x_i is +-0 and r2 is 1): computed once.
  double shared = 0;
  if (rho == 0.0)
    for (std::size_t j : used) shared += g.w[j] * f(m + sq * (rho * g.x[0] + r2 * g.x[j]));
  // An odd f with m = 0: the nodes are symmetric (x[n-1-i] is -x[i] exactly, with the same weight,
  // so the used set is symmetric too), and the argument at (n-1-i, j) is minus the one at
  // (i, n-1-j) exactly (IEEE negation commutes with * and +). So f is evaluated for the first half
  // of i only and the rest read back negated: half the evaluations, the same terms in the same
  // order, the same result bit for bit (a test compares the two).
  const std::size_t n = g.x.size(), half = (n + 1) / 2;
  const bool mirror = Odd && m == 0.0 && rho != 0.0;
  thread_local std::vector<double> table;  // f at (i, j), i < half
  if (mirror) {
    table.assign(half * n, 0.0);
    for (std::size_t i : used) {
      if (i >= half) break;
      for (std::size_t j : used) table[i * n + j] = f(m + sq * (rho * g.x[i] + r2 * g.x[j]));
    }
  }
  double e = 0;
  for (std::size_t i : used) {
    const double fu = f(m + sq * g.x[i]);
    double inner = shared;
    if (rho != 0.0) {
      inner = 0;
      if (mirror && i >= half) {
        const double* row = table.data() + (n - 1 - i) * n + (n - 1);  // f(i, j) = -row[-j]
        for (std::size_t j : used) inner += g.w[j] * -row[-std::ptrdiff_t(j)];
      } else if (mirror) {
        const double* row = table.data() + i * n;
        for (std::size_t j : used) inner += g.w[j] * row[j];
      } else {
        for (std::size_t j : used) inner += g.w[j] * f(m + sq * (rho * g.x[i] + r2 * g.x[j]));
      }
    }
    e += g.w[i] * fu * inner;
  }
  return e;
}
}  // namespace

double pair_expectation(const std::function<double(double)>& fn, double m, double q, double rho, const Quadrature& g,
                        bool odd) {
  return odd ? pair_expectation_of<true>(fn, m, q, rho, g) : pair_expectation_of<false>(fn, m, q, rho, g);
}

namespace {
// The rule for n nodes, computed once per n (a sweep asks for the same rule thousands of times).
const Quadrature& cached_gauss_hermite(int n) {
  static std::mutex mu;
  static std::map<int, Quadrature> rules;
  std::lock_guard<std::mutex> lock(mu);
  auto it = rules.find(n);
  if (it == rules.end()) it = rules.emplace(n, gauss_hermite(n)).first;
  return it->second;  // std::map nodes do not move
}
}  // namespace

std::vector<LayerTheory> mean_field(const Config& c, int nodes) {
  const Quadrature& g = cached_gauss_hermite(nodes);
  const auto& n = c.network;
  const ActivationSpec& a = n.activation;
  const double mb = n.bias, vb = n.bias_std * n.bias_std;
  std::vector<LayerTheory> out;
  double h2 = input_mean_square(c);    // E[h_{l-1}^2]
  double h12 = input_pair_product(c);  // E[h_{l-1}(a) h_{l-1}(b)]
  int n_in = n.input;
  for (std::size_t l = 0; l < n.hidden.size(); ++l) {
    LayerTheory t;
    const int n_out = n.hidden[l];
    t.sigma_w2 = n_in * draw_variance(resolve_init(n.init, n_in, n_out));
    t.var_pre = t.sigma_w2 * h2 + vb;
    t.q_pre = t.var_pre + mb * mb;
    const double cov12 = t.sigma_w2 * h12 + vb;  // covariance of s(a), s(b)
    t.c_pre = (cov12 + mb * mb) / t.q_pre;
    t.var_act = expect(g, mb, t.var_pre, [&](double s) { return f(a, s) * f(a, s); });
    const double d2 = expect(g, mb, t.var_pre, [&](double s) { return df(a, s) * df(a, s); });
    t.chi1 = t.sigma_w2 * d2;
    const int next_out = l + 1 < n.hidden.size() ? n.hidden[l + 1] : n.output;
    t.grad_ratio = double(next_out) * draw_variance(resolve_init(n.init, n_out, next_out)) * d2;
    const double rho = t.var_pre > 0 ? cov12 / t.var_pre : 0.0;
    const double r = std::max(-1.0, std::min(1.0, rho));
    h12 = with_activation(a.kind, [&](auto k) {  // one loop per activation: f inlined, no dispatch per node
      using A = Act<decltype(k)::value>;
      return pair_expectation_of<A::kOdd>([&](double s) { return A::f_exact(a, s); }, mb, t.var_pre, r, g);
    });
    h2 = t.var_act;
    out.push_back(t);
    n_in = n_out;
  }
  return out;
}

}  // namespace isc
