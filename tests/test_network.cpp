// test_network.cpp — whole networks on the CPU backend against signal-propagation theory.
//
// Tolerances: for each layer the across-trial mean of a per-trial statistic is compared with its
// exact expectation, allowing 5 standard errors, where the standard error is the measured
// across-trial standard deviation / sqrt(trials). The expectations used are exact (not
// asymptotic): for W with i.i.d. zero-mean entries of variance v, E[|W h|^2 | h] = n_out v |h|^2,
// and for ReLU with a pre-activation symmetric given the previous layer, E[relu(s)^2] = E[s^2]/2.
#include <gtest/gtest.h>

#include <cmath>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"
#include "tests/across_trials.h"

using namespace isc;

namespace {

using test_util::MeanSe;
std::vector<MeanSe> second_moments(const ConfigResult& r, int q) { return test_util::across_trials(r, q); }

std::vector<ConfigResult> run_text(const std::string& toml, Experiment& ex) {
  ex = parse_experiment(toml, "net.toml");
  auto b = make_backend("cpu", {});
  return run_experiment(ex, *b, keep_all_trials());
}

}  // namespace

TEST(Theory, LinearXavierKeepsVarianceOverTenLayers) {
  Experiment ex;
  const auto r = run_text(
      "trials = 24\nsamples = 128\n[network]\ninput = 256\ndepth = 10\nwidth = 256\nactivation = \"linear\"\n"
      "init = \"xavier_uniform\"\n",
      ex);
  const auto m = second_moments(r[0], int(Quantity::Activation));
  for (int l = 0; l < 10; ++l) EXPECT_NEAR(m[l].mean, 1.0, 5 * m[l].se + 1e-6) << "layer " << l + 1;
}

TEST(Theory, LinearStandardShrinksByOneThirdPerLayer) {
  // n Var[W] = 1/3 for U[-1/sqrt(n), 1/sqrt(n)] (the paper's eq. 1): E[q_l] = 3^-l.
  Experiment ex;
  const auto r = run_text(
      "trials = 24\nsamples = 128\n[network]\ninput = 256\ndepth = 6\nwidth = 256\nactivation = \"linear\"\n"
      "init = \"standard\"\n",
      ex);
  const auto m = second_moments(r[0], int(Quantity::Activation));
  for (int l = 0; l < 6; ++l) {
    const double expect = std::pow(3.0, -(l + 1));
    EXPECT_NEAR(m[l].mean, expect, 5 * m[l].se) << "layer " << l + 1;
    EXPECT_LT(m[l].se, 0.05 * expect);  // the test can tell 1/3 from, say, 1/2.5
  }
}

TEST(Theory, ReluHeKeepsSecondMoment) {
  Experiment ex;
  const auto r = run_text(
      "trials = 24\nsamples = 128\n[network]\ninput = 256\ndepth = 10\nwidth = 256\nactivation = \"relu\"\n"
      "init = \"he_normal\"\n",
      ex);
  const auto act = second_moments(r[0], int(Quantity::Activation));
  const auto pre = second_moments(r[0], int(Quantity::Preactivation));
  for (int l = 0; l < 10; ++l) {
    EXPECT_NEAR(act[l].mean, 1.0, 5 * act[l].se) << "layer " << l + 1;
    EXPECT_NEAR(pre[l].mean, 2.0, 5 * pre[l].se) << "layer " << l + 1;
  }
}

TEST(Theory, ReluXavierHalvesSecondMomentPerLayer) {
  Experiment ex;
  const auto r = run_text(
      "trials = 24\nsamples = 128\n[network]\ninput = 256\ndepth = 10\nwidth = 256\nactivation = \"relu\"\n"
      "init = \"xavier_normal\"\n",
      ex);
  const auto act = second_moments(r[0], int(Quantity::Activation));
  for (int l = 0; l < 10; ++l) {
    const double expect = std::pow(0.5, l + 1);
    EXPECT_NEAR(act[l].mean, expect, 5 * act[l].se) << "layer " << l + 1;
    EXPECT_LT(act[l].se, 0.1 * expect);  // resolves a 10% error in the per-layer factor
  }
}

TEST(Theory, ConstantInitGivesIdenticalUnits) {
  const auto ex = parse_experiment(
      "trials = 3\nsamples = 5\n[network]\ninput = 7\nhidden = [6, 4]\nactivation = \"tanh\"\ninit = \"constant\"\n"
      "init_value = 0.05\nbias = 0.1\n",
      "c.toml");
  const Config& c = ex.points[0].config;
  auto b = make_backend("cpu", {});
  Chunk ch;
  ch.stream = ex.points[0].stream;
  ch.trials = 3;
  ch.samples = 5;
  ch.layers = 2;
  ch.stats = stats_spec(c);
  auto x = b->alloc(3 * 5 * 7), w = b->alloc(3 * 6 * 7), s = b->alloc(3 * 5 * 6), h = b->alloc(3 * 5 * 6);
  b->begin_chunk(ch);
  b->fill_input(*x, c.data, 7);
  b->init_weights(*w, resolve_init(c.network.init, 7, 6), 0, 6, 7);
  b->gemm_forward(*x, *w, *s, 6, 7);
  b->bias_activation_stats(*s, *h, c.network.activation, 0.1f, 6, 0);
  std::vector<float> hv(3 * 5 * 6), xv(3 * 5 * 7);
  b->download(*h, hv.data(), hv.size());
  b->download(*x, xv.data(), xv.size());
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 5; ++i) {
      double sum = 0;
      for (int k = 0; k < 7; ++k) sum += xv[(t * 5 + i) * 7 + k];
      const float* row = &hv[(t * 5 + i) * 6];
      for (int j = 0; j < 6; ++j) EXPECT_EQ(row[j], row[0]);  // every unit the same
      EXPECT_NEAR(row[0], std::tanh(0.05 * sum + 0.1), 1e-5);
    }
  const auto st = assemble_trial_stats(b->end_chunk(), 1.0);
  EXPECT_EQ(st.size(), size_t(3 * 2 * kQuantities));
  EXPECT_EQ(st[1].count, 5u * 6u);  // trial 0, layer 0, activation
  EXPECT_EQ(st[1].m.n, 5.0 * 6.0);
  EXPECT_EQ(st[kQuantities + 1].count, 0u);  // layer 1 never ran: empty
  EXPECT_TRUE(st[kQuantities + 1].hist.empty());
}

TEST(Theory, UniformInputsHaveVarianceOneThird) {
  // data.kind = uniform draws U[-1, 1]: variance 1/3; n = 16 x 64 x 256 values, standard error of
  // the pooled second moment sqrt((1/5 - 1/9) / n) ~ 1.2e-3 for i.i.d. draws.
  Experiment ex;
  const auto r = run_text(
      "trials = 16\nsamples = 64\n[data]\nkind = \"uniform\"\n[network]\ninput = 256\nhidden = [256]\n"
      "activation = \"linear\"\ninit = \"lecun_normal\"\n",
      ex);
  // Layer 1 pre-activation second moment = n Var[W] E[x^2] = 1/3 in expectation.
  const auto m = second_moments(r[0], int(Quantity::Preactivation));
  EXPECT_NEAR(m[0].mean, 1.0 / 3.0, 5 * m[0].se);
}
