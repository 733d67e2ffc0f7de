// test_backward.cpp — backward diagnostics on the CPU: gradients against finite differences of a
// double-precision reference, gradient statistics against theory, Jacobian singular values.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"
#include "host/cpu/svd.h"
#include "tests/across_trials.h"

using namespace isc;

namespace {

// The network of a small config in double precision: weights, inputs and targets taken from the
// engine, everything else recomputed. perturb(l, i) lets a test add eps to s_l[i].
struct RefNet {
  int B, C;
  std::vector<int> widths;             // input, hidden..., classes
  std::vector<std::vector<double>> W;  // per layer, n_out x n_in
  std::vector<double> x;               // B x n0
  std::vector<int> y;
  double bias;
  ActivationSpec act;

  // Loss with an optional perturbation of s_layer[index] (layer = -1: none).
  double loss(int layer = -1, std::size_t index = 0, double eps = 0.0, int wlayer = -1, std::size_t windex = 0) const {
    double total = 0;
    for (int i = 0; i < B; ++i) {
      std::vector<double> h(x.begin() + i * widths[0], x.begin() + (i + 1) * widths[0]);
      for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
        const int n_in = widths[l], n_out = widths[l + 1];
        std::vector<double> s(n_out, bias);
        for (int j = 0; j < n_out; ++j)
          for (int k = 0; k < n_in; ++k) {
            double w = W[l][std::size_t(j) * n_in + k];
            if (int(l) == wlayer && std::size_t(j) * n_in + k == windex) w += eps;
            s[j] += w * h[k];
          }
        if (int(l) == layer) s[index % n_out] += (index / n_out == std::size_t(i)) ? eps : 0.0;
        if (l + 2 == widths.size()) {  // output: softmax NLL
          double m = *std::max_element(s.begin(), s.end()), z = 0;
          for (double v : s) z += std::exp(v - m);
          total += -(s[y[i]] - m - std::log(z));
        } else {
          h.assign(n_out, 0);
          for (int j = 0; j < n_out; ++j) h[j] = act_ref(s[j]);
        }
      }
    }
    return total / B;
  }
  double act_ref(double s) const {
    switch (act.kind) {
      case Activation::Linear: return s;
      case Activation::Tanh: return std::tanh(s);
      case Activation::Sigmoid: return 1 / (1 + std::exp(-s));
      case Activation::Softsign: return s / (1 + std::fabs(s));
      case Activation::Relu: return s > 0 ? s : 0;
      case Activation::LeakyRelu: return s > 0 ? s : act.slope * s;
    }
    return s;
  }
};

}  // namespace

class GradientCheck : public ::testing::TestWithParam<Activation> {};

TEST_P(GradientCheck, MatchesFiniteDifferences) {
  // 2 hidden layers; the engine's float gradients against central differences of the double
  // reference (eps 1e-5: truncation ~1e-10, rounding ~1e-11 / 1e-5): tolerance 1e-4 relative to
  // the largest gradient plus float rounding of the engine (~1e-6 relative).
  const int B = 3, n0 = 5, n1 = 4, n2 = 3, C = 4;
  auto b = make_backend("cpu", {1});
  Chunk ch;
  ch.stream = 12345;
  ch.trials = 1;
  ch.samples = B;
  ch.layers = 2;
  Config cfg;
  cfg.stats.quantities = {"preactivation", "activation", "backprop_gradient", "weight_gradient"};
  ch.stats = stats_spec(cfg);
  ActivationSpec act;
  act.kind = GetParam();
  act.slope = 0.1f;
  InitSpec init;
  init.scheme = InitScheme::XavierNormal;
  init.gain = 1.5;
  const float bias = 0.1f;
  auto x = b->alloc(B * n0), w1 = b->alloc(n1 * n0), w2 = b->alloc(n2 * n1), w3 = b->alloc(C * n2);
  auto s1 = b->alloc(B * n1), h1 = b->alloc(B * n1), s2 = b->alloc(B * n2), h2 = b->alloc(B * n2);
  auto z = b->alloc(B * C), y = b->alloc(B), dz = b->alloc(B * C), d2 = b->alloc(B * n2), d1 = b->alloc(B * n1);
  auto dw1 = b->alloc(n1 * n0), dw2 = b->alloc(n2 * n1);
  b->begin_chunk(ch);
  b->fill_input(*x, DataKind::Gaussian, n0);
  b->init_weights(*w1, resolve_init(init, n0, n1), 0, n1, n0);
  b->init_weights(*w2, resolve_init(init, n1, n2), 1, n2, n1);
  b->init_weights(*w3, resolve_init(init, n2, C), 2, C, n2);
  b->gemm_forward(*x, *w1, *s1, n1, n0);
  b->bias_activation_stats(*s1, *h1, act, bias, n1, 0);
  b->gemm_forward(*h1, *w2, *s2, n2, n1);
  b->bias_activation_stats(*s2, *h2, act, bias, n2, 1);
  b->gemm_forward(*h2, *w3, *z, C, n2);
  b->add_bias(*z, bias, C, 2);
  b->fill_targets(*y, TargetKind::Random, *x, n0, C);
  b->softmax_nll_grad(*z, *y, *dz, C);
  b->gemm_backward_data(*dz, *w3, *d2, C, n2);
  b->activation_grad_stats(*d2, *s2, *h2, act, n2, 1);
  b->gemm_weight_grad(*d2, *h1, *dw2, n2, n1);
  b->gemm_backward_data(*d2, *w2, *d1, n2, n1);
  b->activation_grad_stats(*d1, *s1, *h1, act, n1, 0);
  b->gemm_weight_grad(*d1, *x, *dw1, n1, n0);
  auto get = [&](const Buffer& buf, std::size_t n) {
    std::vector<float> v(n);
    b->download(buf, v.data(), n);
    return std::vector<double>(v.begin(), v.end());
  };
  RefNet ref{B,    C,  {n0, n1, n2, C}, {get(*w1, n1 * n0), get(*w2, n2 * n1), get(*w3, C * n2)}, get(*x, B * n0), {},
             bias, act};
  for (double v : get(*y, B)) ref.y.push_back(int(v));
  const double eps = 1e-5;
  auto check = [&](const std::vector<double>& engine, auto&& fd, const char* what) {
    double scale = 0;
    for (double v : engine) scale = std::max(scale, std::fabs(v));
    for (std::size_t i = 0; i < engine.size(); ++i)
      EXPECT_NEAR(engine[i], fd(i), 1e-4 * scale + 1e-7) << what << "[" << i << "]";
  };
  // dC/ds_l[i, j]: perturb s_l of sample i, unit j (index = i * n_out + j).
  check(
      get(*d2, B * n2), [&](std::size_t k) { return (ref.loss(1, k, eps) - ref.loss(1, k, -eps)) / (2 * eps); },
      "dC/ds2");
  check(
      get(*d1, B * n1), [&](std::size_t k) { return (ref.loss(0, k, eps) - ref.loss(0, k, -eps)) / (2 * eps); },
      "dC/ds1");
  check(
      get(*dw2, n2 * n1),
      [&](std::size_t k) { return (ref.loss(-1, 0, eps, 1, k) - ref.loss(-1, 0, -eps, 1, k)) / (2 * eps); }, "dC/dW2");
  check(
      get(*dw1, n1 * n0),
      [&](std::size_t k) { return (ref.loss(-1, 0, eps, 0, k) - ref.loss(-1, 0, -eps, 0, k)) / (2 * eps); }, "dC/dW1");
}

INSTANTIATE_TEST_SUITE_P(Activations, GradientCheck,
                         ::testing::Values(Activation::Linear, Activation::Tanh, Activation::Sigmoid,
                                           Activation::Softsign, Activation::LeakyRelu));

namespace {
std::vector<test_util::MeanSe> second_moments(const ConfigResult& r, Quantity q) {
  return test_util::across_trials(r, int(q));
}

std::vector<ConfigResult> run_text(const std::string& toml, Experiment& ex) {
  ex = parse_experiment(toml, "bw.toml");
  auto b = make_backend("cpu", {});
  return run_experiment(ex, *b, keep_all_trials());
}
}  // namespace

TEST(BackwardTheory, LinearXavierKeepsGradientVarianceLevel) {
  // Linear layers with Var[W] = 1/n on equal widths: Var[dC/ds_l] = n Var[W] Var[dC/ds_{l+1}]
  // (Glorot & Bengio eq. 6 with n Var = 1), so consecutive ratios are 1. The ratio of two
  // across-trial means is compared with 1 within 5 standard errors (delta method).
  Experiment ex;
  const auto r = run_text(
      "trials = 32\nsamples = 64\n[network]\ninput = 256\ndepth = 6\nwidth = 256\noutput = 10\n"
      "activation = \"linear\"\ninit = \"xavier_normal\"\n[stats]\nquantities = [\"backprop_gradient\"]\n",
      ex);
  const auto g = second_moments(r[0], Quantity::BackpropGradient);
  for (int l = 0; l + 1 < 6; ++l) {
    const double ratio = g[l].mean / g[l + 1].mean;
    const double se = ratio * std::hypot(g[l].se / g[l].mean, g[l + 1].se / g[l + 1].mean);
    // + 0.02: dC/ds_{l+1} is not independent of W_{l+1} (the independence argument behind
    // eq. 6 ignores an O(1/n) correlation through the output).
    EXPECT_NEAR(ratio, 1.0, 5 * se + 0.02) << "layers " << l + 1 << "/" << l + 2;
  }
}

TEST(BackwardTheory, StandardInitShrinksGradientsTowardTheInputByAThird) {
  // n Var[W] = 1/3 for standard init: Var[dC/ds_l] / Var[dC/ds_{l+1}] = 1/3 in the linear regime.
  Experiment ex;
  const auto r = run_text(
      "trials = 32\nsamples = 64\n[network]\ninput = 256\ndepth = 5\nwidth = 256\noutput = 10\n"
      "activation = \"linear\"\ninit = \"standard\"\n[stats]\nquantities = [\"backprop_gradient\"]\n",
      ex);
  const auto g = second_moments(r[0], Quantity::BackpropGradient);
  for (int l = 0; l + 1 < 5; ++l) {
    const double ratio = g[l].mean / g[l + 1].mean;
    const double se = ratio * std::hypot(g[l].se / g[l].mean, g[l + 1].se / g[l + 1].mean);
    EXPECT_NEAR(ratio, 1.0 / 3.0, 5 * se + 0.01) << "layers " << l + 1 << "/" << l + 2;  // + O(1/n), as above
  }
}

TEST(Jacobian, SingularValuesOfKnownSpectrum) {
  // W = P D with P a signed permutation: singular values are |D| exactly (sorted descending).
  const int n = 6;
  const float d[n] = {0.5f, -3.0f, 1.25f, 2.0f, -0.75f, 1.0f};
  const int perm[n] = {3, 0, 5, 1, 4, 2};
  std::vector<float> w(n * n, 0.0f), s(n, 1.0f), sv(n);
  for (int r = 0; r < n; ++r) w[r * n + perm[r]] = (r % 2 ? -1.0f : 1.0f) * d[r];
  ActivationSpec lin;
  lin.kind = Activation::Linear;
  jacobian_singular_values(s.data(), w.data(), lin, n, n, sv.data());
  const float expect[n] = {3.0f, 2.0f, 1.25f, 1.0f, 0.75f, 0.5f};
  for (int i = 0; i < n; ++i) EXPECT_NEAR(sv[i], expect[i], 1e-6f);
  // ReLU with s < 0 on rows 1 and 3 zeroes those rows: their singular values (3 and 2) vanish.
  ActivationSpec relu;
  relu.kind = Activation::Relu;
  s[1] = -1.0f;
  s[3] = -1.0f;
  jacobian_singular_values(s.data(), w.data(), relu, n, n, sv.data());
  const float expect2[n] = {1.25f, 1.0f, 0.75f, 0.5f, 0.0f, 0.0f};
  for (int i = 0; i < n; ++i) EXPECT_NEAR(sv[i], expect2[i], 1e-6f);
}

TEST(Jacobian, LinearXavierSquareHasMeanSingularValueNearMarchenkoPastur) {
  // A square n x n Gaussian matrix with Var = 1/n has singular values following the quarter-circle
  // law on [0, 2], mean 8/(3 pi) ~ 0.8488; at n = 256 the finite-size deviation is below 1%.
  Experiment ex;
  const auto r = run_text(
      "trials = 4\nsamples = 8\n[network]\ninput = 256\ndepth = 2\nwidth = 256\nactivation = \"linear\"\n"
      "init = \"lecun_normal\"\n[stats]\nquantities = [\"jacobian\"]\njacobian_samples = 1\n",
      ex);
  double mean = 0;
  for (int t = 0; t < 4; ++t) mean += r[0].at(t, 1, int(Quantity::JacobianSingularValue)).m.mean / 4;
  EXPECT_NEAR(mean, 8.0 / (3.0 * M_PI), 0.01);
  EXPECT_EQ(r[0].at(0, 1, int(Quantity::JacobianSingularValue)).count, 256u);
}
