// test_gpu.cpp — the CUDA backend against the CPU reference. Every test skips, saying why, when
// the CUDA runtime finds no usable GPU.
//
// Op-by-op agreement on identical operands is tests/test_backend_ops.cpp (every backend against
// the CPU, with the tolerances derived there); here: the draws over many shapes, and whole runs
// through the runner (chunking, end_chunk indexing, var_ratio), where the backends' GEMMs round
// differently and the statistics are compared across trials.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <list>
#include <random>
#include <vector>

#include "cuda/cuda_backend.h"
#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/output.h"
#include "host/app/runner.h"
#include "host/app/train/train_step.h"
#include "host/backend/backend.h"
#include "kernels/init.h"
#include "kernels/rng.h"
#include "tests/gpu_test_util.h"
#include "tests/train_test_util.h"

using namespace isc;
using namespace isc::gpu_test;

namespace {

const InitScheme kSchemes[] = {InitScheme::Zeros,        InitScheme::Constant,      InitScheme::Uniform,
                               InitScheme::Standard,     InitScheme::XavierUniform, InitScheme::XavierNormal,
                               InitScheme::LecunUniform, InitScheme::LecunNormal,   InitScheme::HeUniform,
                               InitScheme::HeNormal};

}  // namespace

TEST(Gpu, DescribesItself) {
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  EXPECT_EQ(g->name(), "cuda:0");
  std::printf("  %s\n", g->description().c_str());
  EXPECT_GT(g->memory_budget(), std::size_t(1) << 28);
  EXPECT_GE(g->preferred_chunk_trials(), 256);
}

TEST(Gpu, DrawsAreBitIdenticalToCpu) {
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  Chunk ch;
  ch.stream = 0x0123456789abcdefull;
  ch.first_trial = 5;
  ch.trials = 3;
  ch.samples = 7;
  ch.layers = 1;
  for (DataKind kind : {DataKind::Gaussian, DataKind::Uniform}) {
    const std::size_t n = std::size_t(ch.trials) * ch.samples * 13;  // 91 per trial: not a multiple of 4
    auto xg = g->alloc(n), xc = c->alloc(n);
    g->begin_chunk(ch);
    c->begin_chunk(ch);
    g->fill_input(*xg, kind, 13);
    c->fill_input(*xc, kind, 13);
    EXPECT_EQ(first_difference(get(*g, *xg, n), get(*c, *xc, n)), -1) << "inputs, kind " << int(kind);
  }
  for (InitScheme s : kSchemes)
    for (auto [n_out, n_in] : {std::pair{7, 5}, std::pair{16, 9}, std::pair{3, 1}, std::pair{64, 64}}) {
      InitSpec spec;
      spec.scheme = s;
      spec.gain = 1.3;
      const LayerDraw d = resolve_init(spec, n_in, n_out);
      const std::size_t n = std::size_t(ch.trials) * n_out * n_in;
      auto wg = g->alloc(n), wc = c->alloc(n);
      g->begin_chunk(ch);
      c->begin_chunk(ch);
      g->init_weights(*wg, d, 2, n_out, n_in);
      c->init_weights(*wc, d, 2, n_out, n_in);
      EXPECT_EQ(first_difference(get(*g, *wg, n), get(*c, *wc, n)), -1)
          << "scheme " << int(s) << ", " << n_out << " x " << n_in;
    }
}

namespace {
const char* kToml =
    "trials = 7\nsamples = 33\n[network]\ninput = 50\nhidden = [40, 30, 20]\n"
    "[stats]\npercentiles = [2, 50, 98]\n"
    "[sweep]\n\"network.activation\" = [\"tanh\", \"relu\"]\n\"network.init\" = [\"standard\", \"he_normal\"]\n";

}  // namespace

TEST(Gpu, ChunkingDoesNotChangeResults) {
  // Chunks of 1, 3 and 7 trials batch the GEMMs differently; every trial's statistics must be the
  // same bits (cuda/gemm.h: one pinned algorithm per shape).
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  auto run_chunked = [&](int chunk, int64_t trials) {
    Overrides ov;
    ov.trials = trials;
    ov.sets = {"run.chunk_trials=" + std::to_string(chunk)};
    static std::list<Experiment> keep;  // results point into their experiment
    keep.push_back(parse_experiment(kToml, "chunks.toml", ov));
    return run_experiment(keep.back(), *g, keep_all_trials());
  };
  const auto ref = run_chunked(7, 7);
  for (int chunk : {1, 3}) {
    const auto r = run_chunked(chunk, 7);
    ASSERT_EQ(r.size(), ref.size());
    for (std::size_t p = 0; p < r.size(); ++p)
      for (int64_t t = 0; t < 7; ++t)
        for (int l = 0; l < ref[p].layers; ++l)
          for (int q = 0; q < 2; ++q)
            expect_identical(r[p].at(t, l, q), ref[p].at(t, l, q),
                             "chunk " + std::to_string(chunk) + ", config " + std::to_string(p) + ", trial " +
                                 std::to_string(t) + ", layer " + std::to_string(l + 1) + ", q " + std::to_string(q));
  }
  // Trial t is the same in a 3-trial run.
  const auto r3 = run_chunked(0, 3);
  for (std::size_t p = 0; p < r3.size(); ++p)
    for (int64_t t = 0; t < 3; ++t)
      for (int l = 0; l < ref[p].layers; ++l)
        for (int q = 0; q < 2; ++q) expect_identical(r3[p].at(t, l, q), ref[p].at(t, l, q), "3 trials");
}

TEST(Gpu, WholeRunsAgreeWithCpu) {
  // Through the runner (chunking, end_chunk indexing, var_ratio): per-trial means and standard
  // deviations agree to 1e-4 of the standard deviation. Per layer the GEMMs differ by at most
  // 2 gamma_64 ~ 8e-6 relative (see the top); tanh is 1-Lipschitz and Xavier keeps the scale, so
  // over 3 layers the differences stay below ~3e-5 of the signal, well inside 1e-4.
  REQUIRE_GPU();
  const auto ex = parse_experiment(
      "trials = 4\nsamples = 32\n[network]\ninput = 64\nhidden = [64, 64, 64]\nactivation = \"tanh\"\n"
      "init = \"xavier_uniform\"\n",
      "whole.toml");
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  const auto rg = run_experiment(ex, *g, keep_all_trials()), rc = run_experiment(ex, *c, keep_all_trials());
  for (int64_t t = 0; t < 4; ++t)
    for (int l = 0; l < 3; ++l)
      for (int q = 0; q < 2; ++q) {
        const TrialStats &G = rg[0].at(t, l, q), &C = rc[0].at(t, l, q);
        const std::string where = "trial " + std::to_string(t) + ", layer " + std::to_string(l + 1);
        EXPECT_EQ(G.count, C.count) << where;
        EXPECT_EQ(G.nan + G.inf, 0u) << where;
        EXPECT_NEAR(G.m.mean, C.m.mean, 1e-4 * C.std()) << where;
        EXPECT_NEAR(G.std(), C.std(), 1e-4 * C.std()) << where;
        EXPECT_NEAR(G.var_ratio, C.var_ratio, 1e-3 * std::fabs(C.var_ratio) + 1e-12) << where;
        uint64_t sg = 0, sc = 0;
        for (auto v : G.hist) sg += v;
        for (auto v : C.hist) sc += v;
        EXPECT_EQ(sg, sc) << where;
        for (std::size_t i = 0; i < G.percentiles.size(); ++i)
          EXPECT_NEAR(G.percentiles[i], C.percentiles[i], 1e-4 * C.std()) << where;
      }
}

TEST(Gpu, DataSetInputsAgreeWithCpu) {
  // Shapeset examples uploaded as the input batch (the same for every trial) and their labels as the
  // targets: forward statistics agree as in WholeRunsAgreeWithCpu (1e-4 of the standard deviation:
  // two layers of 64 after the 1024-wide input, whose pixels are non-negative, so the first GEMM's
  // terms do not cancel); the back-propagated gradients, one more GEMM chain down from the softmax,
  // to 1e-3 of theirs.
  REQUIRE_GPU();
  const auto ex = parse_experiment(
      "trials = 4\nsamples = 32\n[network]\nhidden = [64, 64]\nactivation = \"tanh\"\ninit = \"xavier_uniform\"\n"
      "[data]\nkind = \"shapeset\"\nseed = 3\n"
      "[stats]\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\"]\n",
      "data.toml");
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  const auto rg = run_experiment(ex, *g, keep_all_trials()), rc = run_experiment(ex, *c, keep_all_trials());
  for (int64_t t = 0; t < 4; ++t)
    for (int l = 0; l < 2; ++l)
      for (int q = 0; q < 3; ++q) {
        const TrialStats &G = rg[0].at(t, l, q), &C = rc[0].at(t, l, q);
        const std::string where =
            "trial " + std::to_string(t) + ", layer " + std::to_string(l + 1) + ", q " + std::to_string(q);
        const double tol = (q == 2 ? 1e-3 : 1e-4) * C.std();
        EXPECT_EQ(G.count, C.count) << where;
        EXPECT_EQ(G.nan + G.inf, 0u) << where;
        EXPECT_NEAR(G.m.mean, C.m.mean, tol) << where;
        EXPECT_NEAR(G.std(), C.std(), tol) << where;
      }
}

TEST(Gpu, SgdStepMatchesTheReference) {
  // One SGD step of three 12-10-8-4 networks (minibatch 5, rate 0.5) through the CUDA ops, against
  // the double-precision reference with the CPU test's tolerance (tests/test_train_step.cpp: rate *
  // 1e-5 * the layer's largest gradient, plus 2 ulp): cuBLAS rounds its GEMMs differently from
  // OpenBLAS, within the same few float roundings. Then the forward pass's summed NLL per trial
  // within 1e-5 relative of the reference's, and the same error counts.
  REQUIRE_GPU();
  MlpShape s;
  s.input = 12;
  s.hidden = {10, 8};
  s.classes = 4;
  s.act.kind = Activation::Tanh;
  const int T = 3, B = 5;
  const float rate = 0.5f;
  const MlpParams start = isc::test::random_params(s, T, 4, 0.4f);
  const MlpBatch batch = isc::test::random_batch(s, T, B, 100);
  auto g = make_cuda_backend(0, {});
  Chunk ch;
  ch.trials = T;
  ch.samples = B;
  ch.layers = 2;
  for (bool& e : ch.stats.enabled) e = false;
  TrainState st = make_train_state(*g, s, T, B);
  g->begin_chunk(ch);
  upload_params(*g, st, start);
  upload_batch(*g, st, batch);
  train_step(*g, st, rate);
  const MlpParams got = download_params(*g, st);
  std::vector<double> nll(T);
  std::vector<int64_t> errors(T);
  evaluate(*g, st, nll.data(), errors.data());
  g->end_chunk();
  MlpParams want = start, grad;
  mlp_cost_and_gradients(s, start, batch, &grad);
  sgd_step(want, grad, rate);
  for (int l = 0; l < s.layers(); ++l)
    for (int which = 0; which < 2; ++which) {
      const auto& gv = which ? grad.b[std::size_t(l)] : grad.W[std::size_t(l)];
      const auto& wv = which ? want.b[std::size_t(l)] : want.W[std::size_t(l)];
      const auto& hv = which ? got.b[std::size_t(l)] : got.W[std::size_t(l)];
      double gmax = 0;
      for (float v : gv) gmax = std::max(gmax, double(std::fabs(v)));
      for (std::size_t k = 0; k < wv.size(); ++k)
        ASSERT_NEAR(hv[k], wv[k], rate * 1e-5 * gmax + 2 * std::ldexp(std::fabs(wv[k]), -23))
            << "layer " << l << (which ? " bias " : " weight ") << k;
    }
  const std::vector<double> cost = mlp_cost_and_gradients(s, want, batch, nullptr);
  const std::vector<int> wrong = mlp_errors(s, want, batch);
  for (int t = 0; t < T; ++t) {
    EXPECT_NEAR(nll[std::size_t(t)] / B, cost[std::size_t(t)], 1e-5 * cost[std::size_t(t)]) << t;
    EXPECT_EQ(errors[std::size_t(t)], wrong[std::size_t(t)]) << t;
  }
}

TEST(Gpu, TrainingRunAgreesWithCpuOverTheFirstUpdates) {
  // `initscope run` with [train] on the GPU and on the CPU: 4 tanh networks of 32-32 trained 20
  // updates (rate 0.05, minibatch 10) on Shapeset, measured at updates 0, 10 and 20. Update 0 is
  // the at-initialization pass (WholeRunsAgreeWithCpu's tolerance, 1e-4 of the std); after 10 and
  // 20 updates the weights differ by the GEMMs' roundings accumulated over the steps (each step
  // within a few float roundings, SgdStepMatchesTheReference), so the activation moments are
  // compared to 1e-3 of the std, and the mean test NLL to 1e-4 relative.
  REQUIRE_GPU();
  const auto ex = parse_experiment(
      "trials = 4\nsamples = 40\n[network]\nhidden = [32, 32]\nactivation = \"tanh\"\ninit = \"xavier_uniform\"\n"
      "[data]\nkind = \"shapeset\"\n[train]\nupdates = 20\neval_every = 10\nlearning_rate = 0.05\n",
      "train.toml");
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  const auto rg = run_experiment(ex, *g), rc = run_experiment(ex, *c);
  ASSERT_EQ(rg.size(), 3u);
  ASSERT_EQ(rc.size(), 3u);
  for (std::size_t p = 0; p < 3; ++p)
    for (int l = 0; l < 2; ++l)
      for (int q = 0; q < 2; ++q) {
        const Moments &G = rg[p].aggregate(l, q).per_statistic[1], &C = rc[p].aggregate(l, q).per_statistic[1];
        const double tol = (p == 0 ? 1e-4 : 1e-3) * C.mean;  // statistic 1: each trial's std
        EXPECT_NEAR(G.mean, C.mean, tol) << "point " << p << ", layer " << l + 1 << ", q " << q;
      }
  for (std::size_t p = 0; p < 3; ++p) {
    EXPECT_NEAR(rg[p].train[1].mean, rc[p].train[1].mean, 1e-4 * rc[p].train[1].mean) << "test NLL, point " << p;
    EXPECT_EQ(rg[p].train[0].n, 4.0);
  }
}

TEST(Gpu, SeveralWorkersGiveTheBitsOfOneDevice) {
  REQUIRE_GPU();
  // Two backends on one GPU (--device cuda:0,0: two workers, each with its stream and cuBLAS
  // handles, made current on its own thread, torn down from the main thread) and, where there are
  // two GPUs or more, cuda:all: the outputs of cuda:0 alone, byte for byte, with forward and
  // backward quantities, for chunk sizes 1, 7 and automatic. (What one lent GPU can check of the
  // several-device scheduler; Determinism.SeveralDevicesGiveTheBitsOfOne checks it on CPUs.)
  const char* toml =
      "name = \"w\"\nseed = 3\ntrials = 23\nsamples = 16\n[network]\ninput = 24\nhidden = [20, 20]\n"
      "activation = \"tanh\"\n[stats]\n"
      "quantities = [\"preactivation\", \"activation\", \"backprop_gradient\", \"weight_gradient\"]\n";
  std::vector<std::string> devices = {"cuda:0,0"};
  if (cuda_device_count() >= 2) devices.push_back("cuda:all");
  for (int chunk : {1, 7, 0}) {
    Overrides ov;
    ov.sets = {"run.chunk_trials=" + std::to_string(chunk)};
    const auto ex = parse_experiment(toml, "w.toml", ov);
    std::vector<ConfigResult> ref;
    {
      auto one = make_backend("cuda:0", {});
      ref = run_experiment(ex, *one, keep_all_trials());
    }
    for (const std::string& d : devices) {
      auto multi = make_backend(d, {});
      EXPECT_GE(multi->workers(), 2) << d;
      const auto r = run_experiment(ex, *multi, keep_all_trials());
      EXPECT_EQ(stats_csv(ex, r), stats_csv(ex, ref)) << d << ", chunk " << chunk;
      EXPECT_EQ(histograms_csv(ex, r), histograms_csv(ex, ref)) << d << ", chunk " << chunk;
      EXPECT_EQ(trials_csv(ex, r), trials_csv(ex, ref)) << d << ", chunk " << chunk;
    }
  }
}
