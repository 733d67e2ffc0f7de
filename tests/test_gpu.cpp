// test_gpu.cpp — the CUDA backend against the CPU reference. Every test skips, saying why, when
// the CUDA runtime finds no usable GPU.
//
// What must be equal and what may differ. Inputs and weights come from the same Philox streams
// through the same shared transforms: bit-identical. Bias and activation use the same shared
// functions: given the same s, bit-identical. The GEMM is the one place where the backends round
// differently (OpenBLAS and cuBLAS sum the n products of a dot product in different orders), so
// s = h W^T may differ. Higham's bound for a dot product of length n computed in any order in
// binary32 (u = 2^-24), with or without FMA: |fl(s) - s| <= gamma_n sum_k |h_k| |w_k|,
// gamma_n = n u / (1 - n u). Two such results differ by at most twice that; the tests assert it
// element by element (plus n x 2^-149 per side for products that underflow). The statistics are
// then checked two ways:
//  - against the CPU reference code (compute_stats) run on the GPU's own s and h: exact for
//    counts, histograms, min, max and percentiles; moments to 1e-12 relative (the only freedom is
//    the order of the double-precision sums: relative error <= n 2^-53 ~ 1e-13 for n < 1000);
//  - against the CPU's statistics of its own s and h, with D = max |x_gpu - x_cpu| measured (and
//    already bounded as above): mean within D, std within D sqrt(n / (n-1)) (both are Lipschitz in
//    the sup norm), min, max and percentiles within D plus a float rounding (order statistics
//    are 1-Lipschitz in the sup norm, interpolation is a convex combination), and histograms
//    differing only by values that lie within D of a bin edge: sum |h_gpu - h_cpu| <= 2 x the
//    number of CPU values within D of an edge (each value that moves changes two counts).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <list>
#include <vector>

#include "cuda/cuda_backend.h"
#include "tests/gpu_test_util.h"
#include "cuda/device_buffer.h"
#include "host/app/backends.h"
#include "host/backend/backend.h"
#include "host/app/config.h"
#include "host/cpu/cpu_stats.h"
#include "host/app/runner.h"
#include "kernels/init.h"
#include "kernels/rng.h"

using namespace isc;
using namespace isc::gpu_test;

namespace {

const Activation kEveryActivation[] = {Activation::Linear, Activation::Sigmoid, Activation::Tanh,
                                   Activation::Softsign, Activation::Relu, Activation::LeakyRelu};
const InitScheme kSchemes[] = {InitScheme::Zeros, InitScheme::Constant, InitScheme::Uniform,
                               InitScheme::Standard, InitScheme::XavierUniform, InitScheme::XavierNormal,
                               InitScheme::LecunUniform, InitScheme::LecunNormal, InitScheme::HeUniform,
                               InitScheme::HeNormal};

// A small network driven op by op on one backend.
struct Net {
  int trials = 3, samples = 19, input = 37;
  std::vector<int> hidden{29, 23};
  ActivationSpec act{};
  InitSpec init{};
  float bias = 0.1f;
  DataKind data = DataKind::Gaussian;
  StatsSpec stats;
  uint64_t stream = 0x9e3779b97f4a7c15ull;
  uint64_t first_trial = 5;
  float bias_std = 0.0f;
  float pair_correlation = 0.0f;
};

HistRange activation_range(Activation a) {
  switch (a) {
    case Activation::Tanh:
    case Activation::Softsign: return {-1.0f, 1.0f, 50};
    case Activation::Sigmoid: return {0.0f, 1.0f, 50};
    case Activation::Relu: return {0.0f, 5.0f, 50};
    default: return {-5.0f, 5.0f, 50};
  }
}

Net make_net(Activation a, InitScheme s) {
  Net n;
  n.act.kind = a;
  n.act.slope = 0.01f;
  n.act.threshold = a == Activation::Softsign ? 0.9f : 0.99f;
  n.init.scheme = s;
  n.init.slope = a == Activation::LeakyRelu ? 0.01 : 0.0;
  n.stats.range[0] = HistRange{-5.0f, 5.0f, 50};
  n.stats.range[1] = activation_range(a);
  n.stats.percentiles = {2.0, 50.0, 98.0};
  return n;
}

// Everything a pass leaves behind, per layer: the GEMM output (before bias), s (after bias), h, W.
struct Trace {
  std::vector<float> x;
  std::vector<std::vector<float>> gemm, s, h, w;
  std::vector<TrialStats> stats;
};

// Runs the forward ops of `n` on b. With `feed` (the CPU's trace), each layer's input is first
// overwritten with the CPU's (CUDA buffers only), so that every layer's GEMM sees the same operands.
Trace run_net(Backend& b, const Net& n, const Trace* feed) {
  const int L = int(n.hidden.size());
  int maxw = n.input;
  std::size_t maxW = 0;
  for (int l = 0, prev = n.input; l < L; prev = n.hidden[l], ++l) {
    maxw = std::max(maxw, n.hidden[l]);
    maxW = std::max(maxW, std::size_t(prev) * n.hidden[l]);
  }
  const std::size_t T = n.trials, B = n.samples;
  auto h0 = b.alloc(T * B * maxw), h1 = b.alloc(T * B * maxw), s = b.alloc(T * B * maxw), w = b.alloc(T * maxW);
  Chunk c;
  c.stream = n.stream;
  c.first_trial = n.first_trial;
  c.trials = n.trials;
  c.samples = n.samples;
  c.layers = L;
  c.stats = n.stats;
  c.bias_std = n.bias_std;
  c.pair_correlation = n.pair_correlation;
  Trace tr;
  b.begin_chunk(c);
  b.fill_input(*h0, n.data, n.input);
  tr.x = get(b, *h0, T * B * n.input);
  Buffer* in = h0.get();
  Buffer* out = h1.get();
  for (int l = 0, n_in = n.input; l < L; n_in = n.hidden[l], ++l) {
    const int n_out = n.hidden[l];
    b.init_weights(*w, resolve_init(n.init, n_in, n_out), l, n_out, n_in);
    tr.w.push_back(get(b, *w, T * n_out * n_in));
    if (feed) {
      const std::vector<float>& src = l == 0 ? feed->x : feed->h[l - 1];
      cuda::upload(*in, src.data(), src.size());
    }
    b.gemm_forward(*in, *w, *s, n_in, n_out);
    tr.gemm.push_back(get(b, *s, T * B * n_out));
    b.bias_activation_stats(*s, *out, n.act, n.bias, n_out, l);
    tr.s.push_back(get(b, *s, T * B * n_out));
    tr.h.push_back(get(b, *out, T * B * n_out));
    std::swap(in, out);
  }
  tr.stats = b.end_chunk();
  return tr;
}

const TrialStats& at(const Trace& tr, const Net& n, int t, int l, int q) {
  return tr.stats[(std::size_t(t) * n.hidden.size() + l) * kQuantities + q];
}

// The bias unit j of trial t, layer l adds (kernels/init.h draw4 on the bias stream, as the CPU).
float unit_bias(const Net& n, int t, int l, int j) {
  if (n.bias_std <= 0.0f) return n.bias;
  float v[4];
  draw4(LayerDraw{DrawKind::Normal, n.bias_std}, n.stream, bias_subsequence(n.first_trial + t, l), uint64_t(j) / 4, v);
  return add_rn(n.bias, v[j % 4]);
}

// GPU statistics of trial t, layer l, quantity q against compute_stats on the GPU's own values.
void expect_consistent(const Trace& g, const Net& n, int t, int l, int q, const std::string& where) {
  const std::size_t per = std::size_t(n.samples) * n.hidden[l];
  const float* x = (q == 0 ? g.s[l] : g.h[l]).data() + t * per;
  TrialStats ref;
  std::vector<float> scratch;
  compute_stats(x, per, n.stats.range[q], n.stats.percentiles, q == 1 && has_saturation(n.act.kind) ? &n.act : nullptr,
                ref, scratch);
  const TrialStats& s = at(g, n, t, l, q);
  EXPECT_EQ(s.count, ref.count) << where;
  EXPECT_EQ(s.nan, ref.nan) << where;
  EXPECT_EQ(s.inf, ref.inf) << where;
  EXPECT_EQ(s.saturated, ref.saturated) << where;
  EXPECT_EQ(s.hist, ref.hist) << where;
  EXPECT_TRUE(same_values(s.percentiles, ref.percentiles)) << where;  // -0 and +0 compare equal
  EXPECT_EQ(s.m.n, ref.m.n) << where;
  if (q == 0) {
    const double pc = pair_correlation(x, n.samples, n.hidden[l]);
    if (std::isnan(pc)) EXPECT_TRUE(std::isnan(s.pair_corr)) << where;
    else EXPECT_NEAR(s.pair_corr, pc, 1e-12) << where << ": pair_corr";
  } else {
    EXPECT_EQ(s.pair_corr, 0.0) << where;
  }
  if (ref.m.n > 0) {
    EXPECT_EQ(s.m.min, ref.m.min) << where;
    EXPECT_EQ(s.m.max, ref.m.max) << where;
    const double scale = std::fabs(ref.m.mean) + std::sqrt(ref.m.m2 / ref.m.n) + 1e-300;
    EXPECT_NEAR(s.m.mean, ref.m.mean, 1e-12 * scale) << where;
    EXPECT_NEAR(s.m.m2, ref.m.m2, 1e-12 * ref.m.m2 + 1e-300) << where;
  }
}

// GPU statistics against the CPU's, allowing what D = max |x_gpu - x_cpu| permits (see the top).
void expect_close_to_cpu(const Trace& g, const Trace& c, const Net& n, int t, int l, int q, const std::string& where) {
  const std::size_t per = std::size_t(n.samples) * n.hidden[l];
  const float* xg = (q == 0 ? g.s[l] : g.h[l]).data() + t * per;
  const float* xc = (q == 0 ? c.s[l] : c.h[l]).data() + t * per;
  double D = 0;
  for (std::size_t i = 0; i < per; ++i) D = std::max(D, std::fabs(double(xg[i]) - double(xc[i])));
  const TrialStats& G = at(g, n, t, l, q);
  const TrialStats& C = at(c, n, t, l, q);
  ASSERT_EQ(G.count, C.count) << where;
  ASSERT_EQ(G.m.n, C.m.n) << where;
  const double nn = C.m.n;
  const double scale = std::fabs(C.m.mean) + std::sqrt(C.m.m2 / nn);
  EXPECT_LE(std::fabs(G.m.mean - C.m.mean), D + 1e-12 * scale + 1e-300) << where;
  EXPECT_LE(std::fabs(G.std() - C.std()), D * std::sqrt(nn / std::max(nn - 1, 1.0)) + 1e-12 * scale + 1e-300) << where;
  auto close = [&](double a, double b) { return std::fabs(a - b) <= D + std::ldexp(std::max(std::fabs(a), std::fabs(b)), -22) + 1e-44; };
  EXPECT_TRUE(close(G.m.min, C.m.min)) << where << ": min " << G.m.min << " vs " << C.m.min << ", D " << D;
  EXPECT_TRUE(close(G.m.max, C.m.max)) << where << ": max " << G.m.max << " vs " << C.m.max << ", D " << D;
  ASSERT_EQ(G.percentiles.size(), C.percentiles.size()) << where;
  for (std::size_t i = 0; i < G.percentiles.size(); ++i)
    EXPECT_TRUE(close(G.percentiles[i], C.percentiles[i]))
        << where << ": percentile " << n.stats.percentiles[i] << ": " << G.percentiles[i] << " vs " << C.percentiles[i];
  // Histograms: count the CPU values within D of an edge (edges are those of hist_edge, as binned).
  const Binner b = make_binner(n.stats.range[q]);
  uint64_t near = 0;
  for (std::size_t i = 0; i < per; ++i)
    for (int e = 0; e <= b.bins; ++e)
      if (std::fabs(double(xc[i]) - double(hist_edge(b, e))) <= D) {
        ++near;
        break;
      }
  uint64_t moved = 0;
  ASSERT_EQ(G.hist.size(), C.hist.size()) << where;
  for (std::size_t k = 0; k < G.hist.size(); ++k) moved += G.hist[k] > C.hist[k] ? G.hist[k] - C.hist[k] : C.hist[k] - G.hist[k];
  EXPECT_LE(moved, 2 * near) << where << ": D " << D;
  if (q == 0 && n.samples >= 2) {
    // cos(a, b) moves by at most |da| / (|a| - |da|) when a moves by da (its gradient in a has
    // norm sin(angle) / |a|); twice that per pair, averaged like pair_corr.
    const int w = n.hidden[l];
    double tol = 0;
    int pairs = 0;
    for (int k = 0; k + 1 < n.samples; k += 2, ++pairs)
      for (int r = 0; r < 2; ++r) {
        double nv = 0, nd = 0;
        for (int j = 0; j < w; ++j) {
          const std::size_t e = std::size_t(k + r) * w + j;
          nv += double(xc[e]) * xc[e];
          nd += (double(xg[e]) - xc[e]) * (double(xg[e]) - xc[e]);
        }
        tol += nv > 0 ? 2 * std::sqrt(nd) / std::max(std::sqrt(nv) - std::sqrt(nd), 1e-300) : 0.0;
      }
    EXPECT_NEAR(G.pair_corr, C.pair_corr, tol / pairs + 1e-12) << where << ": pair_corr";
  }
}

}  // namespace

namespace {
// Bias and activation on the GPU: the shared functions, bit for bit, from the GPU's GEMM output.
void expect_bias_and_activation(const Trace& g, const Net& n, int l, const std::string& where) {
  const int w = n.hidden[l];
  for (int t = 0; t < n.trials; ++t)
    for (int i = 0; i < n.samples; ++i)
      for (int j = 0; j < w; ++j) {
        const std::size_t e = (std::size_t(t) * n.samples + i) * w + j;
        // With random biases the CPU adds the unit's bias, then bias 0 (turning -0 into +0).
        const float s = n.bias_std > 0.0f ? add_rn(add_rn(g.gemm[l][e], unit_bias(n, t, l, j)), 0.0f)
                                          : add_rn(g.gemm[l][e], n.bias);
        ASSERT_EQ(bits(g.s[l][e]), bits(s)) << where << ": bias at " << e;
        ASSERT_EQ(bits(g.h[l][e]), bits(activate(n.act, g.s[l][e]))) << where << ": activation at " << e;
      }
}
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

TEST(Gpu, EveryActivationAndSchemeMatchesCpuLayerByLayer) {
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  const double u = std::ldexp(1.0, -24);
  for (Activation a : kEveryActivation)
    for (InitScheme s : kSchemes) {
      const Net n = make_net(a, s);
      const std::string tag = std::string(to_string(a)) + " / scheme " + std::to_string(int(s));
      const Trace tc = run_net(*c, n, nullptr);
      const Trace tg = run_net(*g, n, &tc);
      ASSERT_EQ(first_difference(tg.x, tc.x), -1) << tag << ": inputs";
      for (std::size_t l = 0; l < n.hidden.size(); ++l) {
        const std::string where = tag + ", layer " + std::to_string(l + 1);
        ASSERT_EQ(first_difference(tg.w[l], tc.w[l]), -1) << where << ": weights";
        // GEMM: within the derived bound, element by element (same operands on both sides).
        const int n_in = l == 0 ? n.input : n.hidden[l - 1], n_out = n.hidden[l];
        const std::vector<float>& hin = l == 0 ? tc.x : tc.h[l - 1];
        const double gamma = n_in * u / (1 - n_in * u);
        for (int t = 0; t < n.trials; ++t)
          for (int i = 0; i < n.samples; ++i)
            for (int j = 0; j < n_out; ++j) {
              double mag = 0;
              for (int k = 0; k < n_in; ++k)
                mag += std::fabs(double(hin[(std::size_t(t) * n.samples + i) * n_in + k])) *
                       std::fabs(double(tc.w[l][(std::size_t(t) * n_out + j) * n_in + k]));
              const std::size_t e = (std::size_t(t) * n.samples + i) * n_out + j;
              ASSERT_LE(std::fabs(double(tg.gemm[l][e]) - double(tc.gemm[l][e])),
                        2 * gamma * mag + 2 * n_in * std::ldexp(1.0, -149))
                  << where << ": s[" << t << "][" << i << "][" << j << "]";
            }
        expect_bias_and_activation(tg, n, int(l), where);
        for (int t = 0; t < n.trials; ++t)
          for (int q = 0; q < 2; ++q) {
            const std::string w2 = where + ", trial " + std::to_string(t) + ", quantity " + std::to_string(q);
            expect_consistent(tg, n, t, int(l), q, w2);
            expect_close_to_cpu(tg, tc, n, t, int(l), q, w2);
          }
      }
      for (int t = 0; t < n.trials; ++t)
        for (std::size_t l = 0; l < n.hidden.size(); ++l)
          for (int q = 2; q < kQuantities; ++q) EXPECT_TRUE(at(tg, n, t, int(l), q).hist.empty());
    }
}

TEST(Gpu, RandomBiasesAndCorrelatedPairsMatchCpu) {
  // network.bias_std > 0 (per-unit biases from the bias streams) and data.pair_correlation != 0
  // (inputs mixed in pairs): inputs still bit-identical, biases bit-identical, the measured c-map
  // (pair_corr) consistent with the GPU's values and close to the CPU's.
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  for (float rho : {0.6f, -0.3f}) {
    Net n = make_net(Activation::Tanh, InitScheme::XavierNormal);
    n.bias_std = 0.3f;
    n.pair_correlation = rho;
    n.samples = 20;
    const Trace tc = run_net(*c, n, nullptr);
    const Trace tg = run_net(*g, n, &tc);
    ASSERT_EQ(first_difference(tg.x, tc.x), -1) << "inputs, rho " << rho;
    for (int l = 0; l < int(n.hidden.size()); ++l) {
      const std::string where = "rho " + std::to_string(rho) + ", layer " + std::to_string(l + 1);
      ASSERT_EQ(first_difference(tg.w[size_t(l)], tc.w[size_t(l)]), -1) << where;
      expect_bias_and_activation(tg, n, l, where);
      for (int t = 0; t < n.trials; ++t)
        for (int q = 0; q < 2; ++q) {
          expect_consistent(tg, n, t, l, q, where);
          expect_close_to_cpu(tg, tc, n, t, l, q, where);
        }
    }
  }
}

TEST(Gpu, NonFiniteValuesAreCountedLikeCpu) {
  // U[-1e38, 1e38] weights, linear: layer 1 sums overflow to +-Inf, layer 2 adds +Inf and -Inf (NaN).
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  Net n = make_net(Activation::Linear, InitScheme::Uniform);
  n.init.bound = 1e38;
  n.hidden = {16, 16};
  const Trace tg = run_net(*g, n, nullptr);
  uint64_t nan = 0, inf = 0;
  for (int t = 0; t < n.trials; ++t)
    for (int l = 0; l < 2; ++l)
      for (int q = 0; q < 2; ++q) {
        expect_consistent(tg, n, t, l, q, "trial " + std::to_string(t) + ", layer " + std::to_string(l + 1));
        nan += at(tg, n, t, l, q).nan;
        inf += at(tg, n, t, l, q).inf;
      }
  EXPECT_GT(nan, 0u);
  EXPECT_GT(inf, 0u);
}

TEST(Gpu, LargeHistogramsManyPercentilesAndTies) {
  // 6000 bins: the histograms no longer fit in shared memory (global-atomic path); 9 percentiles:
  // 18 rank slots, three groups in the selection kernel; relu with a negative bias: many exact 0s.
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  Net n = make_net(Activation::Relu, InitScheme::HeNormal);
  n.bias = -0.5f;
  n.samples = 64;
  n.hidden = {300, 200};
  n.stats.range[0].bins = 6000;
  n.stats.range[1].bins = 6000;
  n.stats.percentiles = {0.0, 1.0, 2.0, 25.0, 50.0, 75.0, 98.0, 99.5, 100.0};
  const Trace tg = run_net(*g, n, nullptr);
  for (int t = 0; t < n.trials; ++t)
    for (int l = 0; l < 2; ++l)
      for (int q = 0; q < 2; ++q)
        expect_consistent(tg, n, t, l, q, "trial " + std::to_string(t) + ", layer " + std::to_string(l + 1));
  // The same network with the small histograms: the shared-memory path counts alike.
  Net small = n;
  small.stats.range[0].bins = 100;
  small.stats.range[1].bins = 100;
  const Trace ts = run_net(*g, small, nullptr);
  for (int t = 0; t < n.trials; ++t)
    for (int l = 0; l < 2; ++l)
      for (int q = 0; q < 2; ++q) expect_consistent(ts, small, t, l, q, "100 bins");
}

namespace {
const char* kToml =
    "trials = 7\nsamples = 33\n[network]\ninput = 50\nhidden = [40, 30, 20]\n"
    "[stats]\npercentiles = [2, 50, 98]\n"
    "[sweep]\n\"network.activation\" = [\"tanh\", \"relu\"]\n\"network.init\" = [\"standard\", \"he_normal\"]\n";

std::vector<ConfigResult> run_gpu(const Experiment& ex, Backend& b) { return run_experiment(ex, b); }

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
    return run_gpu(keep.back(), *g);
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
  const auto rg = run_experiment(ex, *g), rc = run_experiment(ex, *c);
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
