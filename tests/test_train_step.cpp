// test_train_step.cpp — the batched SGD step through the backend ops (host/app/train/train_step.h) against
// the double-precision reference (mlp_reference.h), and its determinism across CPU threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/train/train_step.h"
#include "tests/train_test_util.h"

using namespace isc;
using isc::test::random_batch;
using isc::test::random_params;

namespace {

MlpShape shape_of(Activation a) {
  MlpShape s;
  s.input = 12;
  s.hidden = {10, 8};
  s.classes = 4;
  s.act.kind = a;
  s.act.slope = 0.1f;
  return s;
}

Chunk chunk_of(int trials, int samples, int layers) {
  Chunk c;
  c.trials = trials;
  c.samples = samples;
  c.layers = layers;
  for (bool& e : c.stats.enabled) e = false;
  return c;
}

// Parameters after `steps` SGD steps on the backend (a new minibatch each step).
MlpParams steps_on(Backend& be, const MlpShape& s, const MlpParams& start, int trials, int B, int steps, float rate) {
  TrainState st = make_train_state(be, s, trials, B);
  be.begin_chunk(chunk_of(trials, B, int(s.hidden.size())));
  upload_params(be, st, start);
  for (int k = 0; k < steps; ++k) {
    upload_batch(be, st, random_batch(s, trials, B, 100 + unsigned(k)));
    train_step(be, st, rate);
  }
  MlpParams out = download_params(be, st);
  be.end_chunk();
  return out;
}

}  // namespace

TEST(TrainStep, OneStepOnTheCpuBackendMatchesTheReference) {
  // Three 12-10-8-4 networks, minibatch 5, learning rate 0.5, every activation. The backend works in
  // float (OpenBLAS GEMMs over at most 12 terms, float sums of 5 samples), the reference in double:
  // each gradient differs by a few float roundings of its terms, under 1e-5 of the layer's largest
  // gradient through three layers; so after the step every parameter agrees within
  // rate * 1e-5 * max|g| of that layer, plus 2 ulp of the parameter for the update's own rounding.
  for (Activation a : {Activation::Tanh, Activation::Sigmoid, Activation::Softsign, Activation::Relu,
                       Activation::LeakyRelu, Activation::Linear}) {
    const MlpShape s = shape_of(a);
    const int T = 3, B = 5;
    const float rate = 0.5f;
    const MlpParams start = random_params(s, T, 4, 0.4f);
    auto cpu = make_backend("cpu", BackendOptions{1, false});
    const MlpParams got = steps_on(*cpu, s, start, T, B, 1, rate);
    MlpParams want = start, g;
    mlp_cost_and_gradients(s, start, random_batch(s, T, B, 100), &g);
    sgd_step(want, g, rate);
    for (int l = 0; l < s.layers(); ++l)
      for (int which = 0; which < 2; ++which) {
        const auto& gv = which ? g.b[std::size_t(l)] : g.W[std::size_t(l)];
        const auto& wv = which ? want.b[std::size_t(l)] : want.W[std::size_t(l)];
        const auto& hv = which ? got.b[std::size_t(l)] : got.W[std::size_t(l)];
        double gmax = 0;
        for (float x : gv) gmax = std::max(gmax, double(std::fabs(x)));
        for (std::size_t k = 0; k < wv.size(); ++k)
          ASSERT_NEAR(hv[k], wv[k], rate * 1e-5 * gmax + 2 * std::ldexp(std::fabs(wv[k]), -23))
              << to_string(a) << " layer " << l << (which ? " bias " : " weight ") << k;
      }
  }
}

TEST(TrainStep, EvaluationMatchesTheReferenceCostAndErrors) {
  // The summed NLL per trial within 1e-5 relative of the reference's (float logits), the error
  // counts equal (no two logits of these random networks lie within float rounding of each other).
  const MlpShape s = shape_of(Activation::Tanh);
  const int T = 4, B = 30;
  const MlpParams p = random_params(s, T, 8, 0.4f);
  const MlpBatch batch = random_batch(s, T, B, 9);
  auto cpu = make_backend("cpu", BackendOptions{2, false});
  TrainState st = make_train_state(*cpu, s, T, B);
  cpu->begin_chunk(chunk_of(T, B, 2));
  upload_params(*cpu, st, p);
  upload_batch(*cpu, st, batch);
  std::vector<double> nll(T);
  std::vector<int64_t> errors(T);
  evaluate(*cpu, st, nll.data(), errors.data());
  cpu->end_chunk();
  const std::vector<double> cost = mlp_cost_and_gradients(s, p, batch, nullptr);
  const std::vector<int> wrong = mlp_errors(s, p, batch);
  for (int t = 0; t < T; ++t) {
    EXPECT_NEAR(nll[std::size_t(t)] / B, cost[std::size_t(t)], 1e-5 * cost[std::size_t(t)]) << t;
    EXPECT_EQ(errors[std::size_t(t)], wrong[std::size_t(t)]) << t;
  }
}

TEST(TrainStep, CpuThreadsDoNotChangeABit) {
  const MlpShape s = shape_of(Activation::Tanh);
  const MlpParams start = random_params(s, 5, 2, 0.4f);
  auto one = make_backend("cpu", BackendOptions{1, false}), two = make_backend("cpu", BackendOptions{2, false});
  const MlpParams a = steps_on(*one, s, start, 5, 7, 3, 0.2f), b = steps_on(*two, s, start, 5, 7, 3, 0.2f);
  for (int l = 0; l < s.layers(); ++l) {
    EXPECT_EQ(a.W[std::size_t(l)], b.W[std::size_t(l)]) << l;
    EXPECT_EQ(a.b[std::size_t(l)], b.b[std::size_t(l)]) << l;
  }
}
