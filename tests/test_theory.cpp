// test_theory.cpp — mean-field predictions against closed forms and against wide networks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/app/theory.h"
#include "host/backend/backend.h"
#include "tests/across_trials.h"

using namespace isc;

TEST(Quadrature, GaussHermiteMomentsAreExact) {
  const Quadrature g = gauss_hermite(96);
  double m0 = 0, m2 = 0, m4 = 0, m6 = 0;
  for (std::size_t i = 0; i < g.x.size(); ++i) {
    const double x2 = g.x[i] * g.x[i];
    m0 += g.w[i];
    m2 += g.w[i] * x2;
    m4 += g.w[i] * x2 * x2;
    m6 += g.w[i] * x2 * x2 * x2;
  }
  EXPECT_NEAR(m0, 1.0, 1e-12);
  EXPECT_NEAR(m2, 1.0, 1e-12);
  EXPECT_NEAR(m4, 3.0, 1e-11);
  EXPECT_NEAR(m6, 15.0, 1e-10);
}

TEST(Quadrature, ReluArcCosineKernel) {
  // Cho & Saul (2009): E[relu(u) relu(v)] = q / (2 pi) (sqrt(1 - rho^2) + (pi - acos rho) rho).
  // relu's kink limits Gauss–Hermite to about 1e-3 relative at 96 nodes.
  const Quadrature g = gauss_hermite(96);
  auto relu = [](double s) { return s > 0 ? s : 0.0; };
  for (double rho : {-0.9, -0.3, 0.0, 0.5, 0.95}) {
    const double q = 2.5;
    const double exact = q / (2 * M_PI) * (std::sqrt(1 - rho * rho) + (M_PI - std::acos(rho)) * rho);
    EXPECT_NEAR(pair_expectation(relu, 0.0, q, rho, g), exact, 2e-3 * q) << rho;
  }
  EXPECT_NEAR(pair_expectation(relu, 0.0, 2.5, 1.0, g), 1.25, 1e-9);  // E[relu(u)^2] = q/2
}

TEST(Quadrature, ErfKernel) {
  // Williams (1997): E[erf(u) erf(v)] = (2/pi) asin(2 rho q / (1 + 2 q)) for variance q.
  const Quadrature g = gauss_hermite(96);
  auto erf = [](double s) { return std::erf(s); };
  for (double rho : {-0.7, 0.2, 0.9}) {
    const double q = 0.8;
    EXPECT_NEAR(pair_expectation(erf, 0.0, q, rho, g), 2 / M_PI * std::asin(2 * rho * q / (1 + 2 * q)), 1e-8) << rho;
  }
}

TEST(Quadrature, NodesOfNegligibleWeightChangeNothingBeyondRounding) {
  // pair_expectation leaves out the nodes of weight below 1e-22 (|z| > ~10). Against the full
  // 96 x 96 sum, for bounded and unbounded activations, small and large variances, any correlation:
  // within 4e-16 of the sum of the terms' magnitudes (a few units of the sum's own rounding; where
  // the terms cancel, as for an odd f at rho = 0, the result is that rounding).
  const Quadrature g = gauss_hermite(96);
  const std::function<double(double)> fs[] = {
      [](double s) { return std::tanh(s); }, [](double s) { return s > 0 ? s : 0.0; },
      [](double s) { return 1 / (1 + std::exp(-s)); }, [](double s) { return s / (1 + std::fabs(s)); },
      [](double s) { return s; }};
  int pruned = 0;
  for (std::size_t i = 0; i < g.x.size(); ++i) pruned += g.w[i] < 1e-22;
  EXPECT_GT(pruned, 20);  // there is something to leave out
  for (std::size_t k = 0; k < std::size(fs); ++k)
    for (double m : {0.0, 0.3})
      for (double q : {0.01, 1.0, 30.0})
        for (double rho : {-0.8, 0.0, 1e-17, 0.5, 0.99}) {
          const double sq = std::sqrt(q), r2 = std::sqrt(1 - rho * rho);
          double full = 0, magnitude = 0;
          for (std::size_t i = 0; i < g.x.size(); ++i) {
            double inner = 0, inner_abs = 0;
            for (std::size_t j = 0; j < g.x.size(); ++j) {
              const double t = g.w[j] * fs[k](m + sq * (rho * g.x[i] + r2 * g.x[j]));
              inner += t;
              inner_abs += std::fabs(t);
            }
            full += g.w[i] * fs[k](m + sq * g.x[i]) * inner;
            magnitude += g.w[i] * std::fabs(fs[k](m + sq * g.x[i])) * inner_abs;
          }
          EXPECT_NEAR(pair_expectation(fs[k], m, q, rho, g), full, 4e-16 * magnitude)
              << "activation " << k << " m " << m << " q " << q << " rho " << rho;
        }
}

TEST(Quadrature, TheOddSymmetryGivesTheSameSumBitForBit) {
  // For an odd f at m = 0, pair_expectation evaluates f on half the node pairs and reads the rest
  // back negated: the result must be the one of the full evaluation exactly (EXPECT_EQ on doubles),
  // for each odd activation the theory uses, for any variance and correlation; with m != 0 the
  // symmetry does not hold and is not used.
  const Quadrature g = gauss_hermite(96);
  ActivationSpec a;
  for (Activation k : {Activation::Tanh, Activation::Softsign, Activation::Linear}) {
    a.kind = k;
    const std::function<double(double)> f = [&](double s) { return activation_value(a, s); };
    for (double q : {1e-6, 0.01, 0.5, 1.0, 3.7, 30.0, 1e4})
      for (double rho : {-1.0, -0.8, -1e-9, 1e-17, 0.3, 0.5, 0.99, 1.0})
        for (double m : {0.0, -0.0, 0.25}) {
          const double plain = pair_expectation(f, m, q, rho, g, false);
          const double mirrored = pair_expectation(f, m, q, rho, g, true);
          EXPECT_EQ(std::memcmp(&plain, &mirrored, sizeof plain), 0)
              << to_string(k) << " q " << q << " rho " << rho << " m " << m << ": " << plain << " vs " << mirrored;
        }
  }
  for (int n : {7, 20, 31})  // odd and even node counts
    for (double rho : {-0.5, 0.6}) {
      const Quadrature h = gauss_hermite(n);
      a.kind = Activation::Tanh;
      const std::function<double(double)> f = [&](double s) { return activation_value(a, s); };
      EXPECT_EQ(pair_expectation(f, 0.0, 2.0, rho, h, false), pair_expectation(f, 0.0, 2.0, rho, h, true)) << n;
    }
}

TEST(MeanField, UncorrelatedInputsStayUncorrelatedThroughOddActivations) {
  // Zero-mean, uncorrelated inputs (Gaussian data, pair_correlation 0), no bias: through an odd
  // activation every layer's pre-activation correlation is exactly 0 (E[f(u)] E[f(v)] = 0), not
  // the quadrature's rounding noise; with a bias mean, or sigmoid (not odd), it is not 0.
  for (const char* act : {"tanh", "softsign", "linear"}) {
    const auto ex = parse_experiment(
        std::string("[network]\ninput = 64\nhidden = [64, 64, 64]\nactivation = \"") + act + "\"\ngain = 1.3\n",
        "t.toml");
    for (const auto& l : mean_field(ex.points[0].config)) EXPECT_EQ(l.c_pre, 0.0) << act;
    const std::function<double(double)> f = [&](double s) {
      return activation_value(ex.points[0].config.network.activation, s);
    };
    EXPECT_EQ(pair_expectation(f, 0.0, 0.7, 0.0, gauss_hermite(96), true), 0.0) << act;
  }
  const auto biased =
      parse_experiment("[network]\ninput = 64\nhidden = [64, 64]\nactivation = \"tanh\"\nbias = 0.3\n", "t.toml");
  EXPECT_GT(mean_field(biased.points[0].config).back().c_pre, 0.01);
  const auto sigmoid =
      parse_experiment("[network]\ninput = 64\nhidden = [64, 64]\nactivation = \"sigmoid\"\n", "t.toml");
  EXPECT_GT(mean_field(sigmoid.points[0].config).back().c_pre, 0.01);
}

TEST(MeanField, LinearClosedForm) {
  const auto ex = parse_experiment(
      "[network]\ninput = 100\nhidden = [200, 50]\noutput = 10\nactivation = \"linear\"\ninit = \"standard\"\n"
      "bias = 0.5\nbias_std = 0.2\n[data]\npair_correlation = 0.3\n",
      "t.toml");
  const auto th = mean_field(ex.points[0].config);
  // Tolerance 1e-6: the weight scale the engine (and theory) uses is rounded to float.
  // sigma_w2 = n_in Var[W] = 1/3; q = sigma_w2 E[h^2] + sigma_b^2 (+ bias^2 for the raw moment).
  const double v1 = 1.0 / 3.0 * 1.0 + 0.04, q1 = v1 + 0.25;
  EXPECT_NEAR(th[0].sigma_w2, 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(th[0].var_pre, v1, 1e-6);
  EXPECT_NEAR(th[0].q_pre, q1, 1e-6);
  EXPECT_NEAR(th[0].var_act, q1, 1e-6);  // E[s^2] with mean 0.5
  EXPECT_NEAR(th[1].var_pre, 1.0 / 3.0 * q1 + 0.04, 1e-6);
  EXPECT_NEAR(th[0].chi1, 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(th[0].grad_ratio, 50.0 / (3.0 * 200.0), 1e-6);  // n_next Var[W_next] = 50 / (3 * 200)
  EXPECT_NEAR(th[0].c_pre, (1.0 / 3.0 * 0.3 + 0.04 + 0.25) / q1, 1e-6);
}

TEST(MeanField, WideTanhNetworkMatchesPrediction) {
  // Width 2000, tanh, sigma_w^2 = 1.5, sigma_b = 0.3: the measured per-trial second moment of the
  // pre-activation averages to q_l. Tolerance: 5 across-trial standard errors plus the O(1/n)
  // finite-width correction, bounded by 3 q / n.
  const auto ex = parse_experiment(
      "trials = 6\nsamples = 64\n[network]\ninput = 500\ndepth = 4\nwidth = 2000\nactivation = \"tanh\"\n"
      "init = \"lecun_normal\"\ngain = 1.224744871\nbias_std = 0.3\n",
      "w.toml");
  auto b = make_backend("cpu", {});
  const auto r = run_experiment(ex, *b, keep_all_trials());
  const auto th = mean_field(ex.points[0].config);
  const auto m = test_util::across_trials(r[0], 0);
  for (int l = 0; l < 4; ++l)
    EXPECT_NEAR(m[l].mean, th[l].q_pre, 5 * m[l].se + 3 * th[l].q_pre / 2000) << "layer " << l + 1;
}

TEST(MeanField, MeasuredCorrelationMapFollowsTheory) {
  // Pairs of inputs with correlation 0.5 through a wide tanh network in the ordered phase: the
  // measured cosine similarity of the pre-activations tracks c_l. Tolerance: 5 across-trial
  // standard errors (16 trials) plus the O(1/n) bias of a ratio of finite-width sums, bounded by
  // 4/n_in (measured about 3/n_in for n_in = 500 ... 4000).
  const auto ex = parse_experiment(
      "trials = 16\nsamples = 32\n[data]\npair_correlation = 0.5\n[network]\ninput = 1000\ndepth = 3\nwidth = 1000\n"
      "activation = \"tanh\"\ninit = \"lecun_normal\"\nbias_std = 0.5\n",
      "c.toml");
  auto b = make_backend("cpu", {});
  const auto r = run_experiment(ex, *b, keep_all_trials());
  const auto th = mean_field(ex.points[0].config);
  const auto c = test_util::across_trials(r[0], 0, [](const TrialStats& t) { return t.pair_corr; });
  for (int l = 0; l < 3; ++l) {
    EXPECT_NEAR(c[l].mean, th[l].c_pre, 5 * c[l].se + 4.0 / 1000) << "layer " << l + 1;
    EXPECT_GT(th[l].c_pre, 0.5);  // correlations grow in the ordered phase
  }
}
