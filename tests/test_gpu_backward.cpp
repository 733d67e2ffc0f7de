// test_gpu_backward.cpp — the CUDA backend's backward ops against the CPU reference, op by op. Every
// test skips, saying why, when the CUDA runtime finds no usable GPU.
//
// Both backends run the runner's forward + backward op sequence on a small network; the GPU run is
// fed the CPU's operands before every op (cuda::upload), so that each op is compared on identical
// inputs and differences cannot accumulate. What must hold, and why:
//  - random targets: the same Philox bits through the same shared function: bit-identical;
//  - the output bias, the softmax gradient (kernels/loss.h) and g * f'(s) (the same shared,
//    explicitly rounded expressions on identical inputs): bit-identical;
//  - the backward GEMMs (dh = g W: dot products of length n_out; dW = g^T h: length samples) round
//    differently (OpenBLAS and cuBLAS sum in different orders, cuBLAS with FMA). Higham's bound for
//    a length-k dot product in binary32 in any order, with or without FMA: |fl(d) - d| <= gamma_k
//    sum |a_i||b_i|, gamma_k = k u / (1 - k u), u = 2^-24; two results differ by at most twice that
//    (plus k 2^-149 per side for products that underflow). Asserted element by element;
//  - teacher targets: argmax of GEMM logits, so they may differ where the two largest logits lie
//    within the GEMM bound of each other (asserted: a flip only between such near-ties);
//  - statistics of bit-identical values (backprop gradient): equal to the CPU's (moments to 1e-12
//    relative: only the order of the double sums differs, error <= n 2^-53);
//  - statistics of values that differ by at most D (weight gradient: D measured, bounded as above;
//    Jacobian singular values: D = 1e-4 of the trial's largest, see below): consistent with
//    compute_stats on the GPU's own values where those are known, and within what D permits of the
//    CPU's: mean within D, std within D sqrt(n/(n-1)), min, max and percentiles within D (order
//    statistics are 1-Lipschitz in the sup norm), histogram counts differing only by values whose
//    D-neighbourhood straddles a bin edge (symmetric-log bins included: the binning is monotone).
//  - Jacobian singular values: J itself is bit-identical on both sides (same s, W and f'); LAPACK's
//    sgesdd and cuSOLVER's gesvd are backward stable, |sigma_i(J) - sigma_i(J + E)| <= ||E||_2
//    (Weyl) with ||E||_2 <= p(n) u ||J||_2, p(n) a small multiple of n in practice: for n <= 40,
//    a few 1e-6 of sigma_max per side. 1e-4 of sigma_max leaves a margin of ten or more.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "cuda/cuda_backend.h"
#include "tests/gpu_test_util.h"
#include "cuda/device_buffer.h"
#include "host/app/backends.h"
#include "host/backend/backend.h"
#include "host/app/config.h"
#include "host/cpu/svd.h"
#include "host/cpu/cpu_kernels.h"
#include "host/cpu/cpu_stats.h"
#include "host/app/runner.h"
#include "kernels/init.h"
#include "kernels/rng.h"

using namespace isc;
using namespace isc::gpu_test;

namespace {



// A small network with every backward quantity on.
struct BNet {
  int trials = 3, samples = 19, input = 37, classes = 10;
  std::vector<int> hidden{29, 23};
  ActivationSpec act{};
  InitSpec init{};
  float bias = 0.1f, bias_std = 0.0f;
  TargetKind targets = TargetKind::Random;
  StatsSpec stats;
  uint64_t stream = 0x243f6a8885a308d3ull, first_trial = 5;
};

BNet make_bnet(Activation a) {
  BNet n;
  n.act.kind = a;
  n.act.slope = 0.05f;
  n.act.threshold = a == Activation::Softsign ? 0.9f : 0.99f;
  n.init.scheme = InitScheme::XavierNormal;
  n.init.gain = 1.3;
  Config cfg;
  cfg.stats.bins = 50;
  cfg.stats.quantities = {"preactivation", "activation", "backprop_gradient", "weight_gradient",
                          "jacobian_singular_value"};
  n.stats = stats_spec(cfg);  // the runner's ranges: symmetric-log bins for the gradients
  n.stats.jacobian_samples = 2;
  return n;
}

// What a run leaves behind: the GPU's own result of every op (computed from the fed operands).
struct BTrace {
  std::vector<float> x, zgemm, z, y, dz;
  std::vector<std::vector<float>> w, s, h, dh_in, ds, dw;  // dh_in[l]: dC/dh_l; ds[l]: dC/ds_l
  std::vector<TrialStats> stats;
};

// The runner's forward_backward sequence (host/runner.cpp) on b. With `feed` (the CPU's trace; b is
// then the CUDA backend), every op's inputs are first overwritten with the CPU's.
BTrace run_backward(Backend& b, const BNet& n, const BTrace* feed) {
  const int L = int(n.hidden.size()), C = n.classes;
  const std::size_t T = n.trials, B = n.samples;
  auto width = [&](int l) { return l < 0 ? n.input : n.hidden[std::size_t(l)]; };
  int maxw = n.input;
  std::size_t maxW = 0;
  for (int l = 0; l < L; ++l) {
    maxw = std::max(maxw, width(l));
    maxW = std::max(maxW, std::size_t(width(l)) * width(l - 1));
  }
  auto x = b.alloc(T * B * n.input);
  std::vector<std::unique_ptr<Buffer>> S, H, W;
  for (int l = 0; l < L; ++l) {
    S.push_back(b.alloc(T * B * width(l)));
    H.push_back(b.alloc(T * B * width(l)));
    W.push_back(b.alloc(T * width(l) * width(l - 1)));
  }
  W.push_back(b.alloc(T * C * width(L - 1)));
  auto z = b.alloc(T * B * C), y = b.alloc(T * B), dz = b.alloc(T * B * C), dw = b.alloc(T * maxW);
  auto dh = b.alloc(T * B * maxw), dh_next = b.alloc(T * B * maxw);
  auto Hb = [&](int l) -> Buffer& { return l < 0 ? *x : *H[std::size_t(l)]; };
  auto put = [&](Buffer& buf, const std::vector<float>& v) {
    if (feed) cuda::upload(buf, v.data(), v.size());
  };
  Chunk c;
  c.stream = n.stream;
  c.first_trial = n.first_trial;
  c.trials = n.trials;
  c.samples = n.samples;
  c.layers = L;
  c.stats = n.stats;
  c.bias_std = n.bias_std;
  BTrace tr;
  tr.dh_in.resize(std::size_t(L));
  tr.ds.resize(std::size_t(L));
  tr.dw.resize(std::size_t(L));
  b.begin_chunk(c);
  b.fill_input(*x, DataKind::Gaussian, n.input);
  tr.x = get(b, *x, T * B * n.input);
  for (int l = 0; l < L; ++l) {
    b.init_weights(*W[std::size_t(l)], resolve_init(n.init, width(l - 1), width(l)), l, width(l), width(l - 1));
    tr.w.push_back(get(b, *W[std::size_t(l)], T * width(l) * width(l - 1)));
    if (feed) put(Hb(l - 1), l == 0 ? feed->x : feed->h[std::size_t(l - 1)]);
    b.gemm_forward(Hb(l - 1), *W[std::size_t(l)], *S[std::size_t(l)], width(l - 1), width(l));
    b.bias_activation_stats(*S[std::size_t(l)], *H[std::size_t(l)], n.act, n.bias, width(l), l);
    tr.s.push_back(get(b, *S[std::size_t(l)], T * B * width(l)));
    tr.h.push_back(get(b, *H[std::size_t(l)], T * B * width(l)));
    if (feed) put(*S[std::size_t(l)], feed->s[std::size_t(l)]);  // the Jacobians and f'(s) from the CPU's s
    if (n.stats.enabled[int(Quantity::JacobianSingularValue)])
      b.jacobian_stats(*S[std::size_t(l)], *W[std::size_t(l)], n.act, width(l), width(l - 1), l);
  }
  b.init_weights(*W[std::size_t(L)], resolve_init(n.init, width(L - 1), C), L, C, width(L - 1));
  tr.w.push_back(get(b, *W[std::size_t(L)], T * C * width(L - 1)));
  if (feed) put(Hb(L - 1), feed->h[std::size_t(L - 1)]);
  b.gemm_forward(Hb(L - 1), *W[std::size_t(L)], *z, width(L - 1), C);
  tr.zgemm = get(b, *z, T * B * C);
  b.add_bias(*z, n.bias, C, L);
  tr.z = get(b, *z, T * B * C);
  b.fill_targets(*y, n.targets, *x, n.input, C);
  tr.y = get(b, *y, T * B);
  if (feed) {
    put(*z, feed->z);
    put(*y, feed->y);
  }
  b.softmax_nll_grad(*z, *y, *dz, C);
  tr.dz = get(b, *dz, T * B * C);
  if (feed) put(*dz, feed->dz);
  b.gemm_backward_data(*dz, *W[std::size_t(L)], *dh, C, width(L - 1));
  for (int l = L - 1; l >= 0; --l) {
    const std::size_t ul = std::size_t(l);
    tr.dh_in[ul] = get(b, *dh, T * B * width(l));
    if (feed) put(*dh, feed->dh_in[ul]);
    b.activation_grad_stats(*dh, *S[ul], n.act, width(l), l);
    tr.ds[ul] = get(b, *dh, T * B * width(l));
    if (feed) put(*dh, feed->ds[ul]);
    if (n.stats.enabled[int(Quantity::WeightGradient)]) {
      b.gemm_weight_grad(*dh, Hb(l - 1), *dw, width(l), width(l - 1));
      tr.dw[ul] = get(b, *dw, T * width(l) * width(l - 1));
      b.stats(*dw, std::size_t(width(l)) * width(l - 1), Quantity::WeightGradient, l);
    }
    if (l > 0) {
      b.gemm_backward_data(*dh, *W[ul], *dh_next, width(l), width(l - 1));
      std::swap(dh, dh_next);
    }
  }
  tr.stats = b.end_chunk();
  return tr;
}

const TrialStats& at(const BTrace& tr, const BNet& n, int t, int l, int q) {
  return tr.stats[(std::size_t(t) * n.hidden.size() + std::size_t(l)) * kQuantities + std::size_t(q)];
}

// Equal statistics (moments to 1e-12 relative: the order of the double sums is free).
void expect_same_stats(const TrialStats& g, const TrialStats& c, const std::string& where) {
  EXPECT_EQ(g.count, c.count) << where;
  EXPECT_EQ(g.nan, c.nan) << where;
  EXPECT_EQ(g.inf, c.inf) << where;
  EXPECT_EQ(g.saturated, c.saturated) << where;
  EXPECT_EQ(g.hist, c.hist) << where;
  EXPECT_TRUE(same_values(g.percentiles, c.percentiles)) << where;
  EXPECT_EQ(g.m.n, c.m.n) << where;
  if (c.m.n > 0) {
    EXPECT_EQ(g.m.min, c.m.min) << where;
    EXPECT_EQ(g.m.max, c.m.max) << where;
    const double scale = std::fabs(c.m.mean) + std::sqrt(c.m.m2 / c.m.n) + 1e-300;
    EXPECT_NEAR(g.m.mean, c.m.mean, 1e-12 * scale) << where;
    EXPECT_NEAR(g.m.m2, c.m.m2, 1e-12 * c.m.m2 + 1e-300) << where;
  }
}

// GPU statistics against compute_stats on the GPU's own values.
void expect_consistent(const TrialStats& g, const float* x, std::size_t n, const HistRange& r, const StatsSpec& spec,
                       const std::string& where) {
  TrialStats ref;
  std::vector<float> scratch;
  compute_stats(x, n, r, spec.percentiles, nullptr, ref, scratch);
  expect_same_stats(g, ref, where);
}

// GPU statistics within what D = max |x_gpu - x_cpu| permits of the CPU's (see the top); xc: the CPU's values.
void expect_close(const TrialStats& G, const TrialStats& C, const float* xc, std::size_t n, const HistRange& r,
                  double D, const std::string& where) {
  ASSERT_EQ(G.count, C.count) << where;
  ASSERT_EQ(G.m.n, C.m.n) << where;
  const double nn = C.m.n, scale = std::fabs(C.m.mean) + std::sqrt(C.m.m2 / std::max(nn, 1.0));
  EXPECT_LE(std::fabs(G.m.mean - C.m.mean), D + 1e-12 * scale + 1e-300) << where;
  EXPECT_LE(std::fabs(G.std() - C.std()), D * std::sqrt(nn / std::max(nn - 1, 1.0)) + 1e-12 * scale + 1e-300) << where;
  auto close = [&](double a, double b) {
    return std::fabs(a - b) <= D + std::ldexp(std::max(std::fabs(a), std::fabs(b)), -22) + 1e-44;
  };
  EXPECT_TRUE(close(G.m.min, C.m.min)) << where << ": min " << G.m.min << " vs " << C.m.min << ", D " << D;
  EXPECT_TRUE(close(G.m.max, C.m.max)) << where << ": max " << G.m.max << " vs " << C.m.max << ", D " << D;
  ASSERT_EQ(G.percentiles.size(), C.percentiles.size()) << where;
  for (std::size_t i = 0; i < G.percentiles.size(); ++i)
    EXPECT_TRUE(close(G.percentiles[i], C.percentiles[i]))
        << where << ": percentile " << i << ": " << G.percentiles[i] << " vs " << C.percentiles[i] << ", D " << D;
  // A value may change slot only if its D-neighbourhood (widened by a float rounding) spans two slots.
  const Binner b = make_binner(r);
  uint64_t near = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float lo = std::nextafter(float(double(xc[i]) - D), -INFINITY);
    const float hi = std::nextafter(float(double(xc[i]) + D), INFINITY);
    near += hist_slot(b, lo) != hist_slot(b, hi);
  }
  uint64_t moved = 0;
  ASSERT_EQ(G.hist.size(), C.hist.size()) << where;
  for (std::size_t k = 0; k < G.hist.size(); ++k)
    moved += G.hist[k] > C.hist[k] ? G.hist[k] - C.hist[k] : C.hist[k] - G.hist[k];
  EXPECT_LE(moved, 2 * near) << where << ": D " << D;
}

// Batched row-major product checks: out[t] (rows x cols) against the bound for
// out[t][i][j] = sum_p A(t, i, p) B(t, p, j), same operands on both sides.
template <class FA, class FB>
void expect_gemm_close(const std::vector<float>& g, const std::vector<float>& c, int T, int rows, int cols, int k,
                       FA a, FB bm, const std::string& where) {
  const double gam = gamma_k(k);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) {
        double mag = 0;
        for (int p = 0; p < k; ++p) mag += std::fabs(double(a(t, i, p))) * std::fabs(double(bm(t, p, j)));
        const std::size_t e = (std::size_t(t) * rows + i) * cols + j;
        ASSERT_LE(std::fabs(double(g[e]) - double(c[e])), 2 * gam * mag + 2 * k * std::ldexp(1.0, -149))
            << where << "[" << t << "][" << i << "][" << j << "]: " << g[e] << " vs " << c[e];
      }
}

// The CPU's pooled singular values of trial t, layer l (computed as the CPU backend does).
std::vector<float> cpu_singular_values(const BTrace& c, const BNet& n, int t, int l) {
  const int n_out = n.hidden[std::size_t(l)], n_in = l == 0 ? n.input : n.hidden[std::size_t(l - 1)];
  const int J = n.stats.jacobian_samples;
  const std::size_t k = std::size_t(std::min(n_out, n_in));
  std::vector<float> sv(k * std::size_t(J));
  for (int j = 0; j < J; ++j)
    jacobian_singular_values(c.s[std::size_t(l)].data() + (std::size_t(t) * n.samples + j) * n_out,
                             c.w[std::size_t(l)].data() + std::size_t(t) * n_out * n_in, n.act, n_out, n_in,
                             sv.data() + std::size_t(j) * k);
  return sv;
}

// Runs `n` on both backends and checks every backward op and statistic (see the top).
void check_network(const BNet& n, const std::string& tag) {
  auto g = make_cuda_backend(0, {});
  auto cpu = make_backend("cpu", {});
  const BTrace tc = run_backward(*cpu, n, nullptr);
  const BTrace tg = run_backward(*g, n, &tc);
  const int L = int(n.hidden.size()), T = n.trials, B = n.samples, C = n.classes;
  auto width = [&](int l) { return l < 0 ? n.input : n.hidden[std::size_t(l)]; };
  ASSERT_EQ(first_difference(tg.x, tc.x), -1) << tag << ": inputs";
  for (int l = 0; l <= L; ++l) ASSERT_EQ(first_difference(tg.w[std::size_t(l)], tc.w[std::size_t(l)]), -1) << tag;
  // Output logits: the GEMM within the bound (CPU's h_L fed), then the bias bit for bit.
  const std::vector<float>& hL = tc.h[std::size_t(L - 1)];
  const std::vector<float>& wL = tc.w[std::size_t(L)];
  const int nL = width(L - 1);
  expect_gemm_close(
      tg.zgemm, tc.zgemm, T, B, C, nL, [&](int t, int i, int p) { return hL[(std::size_t(t) * B + i) * nL + p]; },
      [&](int t, int p, int j) { return wL[(std::size_t(t) * C + j) * nL + p]; }, tag + ": logits");
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < B; ++i)
      for (int j = 0; j < C; ++j) {
        const std::size_t e = (std::size_t(t) * B + i) * C + j;
        float want = add_rn(tg.zgemm[e], n.bias);
        if (n.bias_std > 0.0f) {
          float v[4];
          draw4(LayerDraw{DrawKind::Normal, n.bias_std}, n.stream, bias_subsequence(n.first_trial + t, L),
                uint64_t(j) / 4, v);
          want = add_rn(tg.zgemm[e], add_rn(n.bias, v[j % 4]));
        }
        ASSERT_EQ(bits(tg.z[e]), bits(want)) << tag << ": output bias at " << e;
      }
  // Targets.
  if (n.targets == TargetKind::Random) {
    ASSERT_EQ(first_difference(tg.y, tc.y), -1) << tag << ": random targets";
  } else {
    std::vector<float> teacher(std::size_t(C) * n.input);
    cpu_fill_draws(LayerDraw{DrawKind::Normal, float(1.0 / std::sqrt(double(n.input)))}, n.stream,
                   teacher_subsequence(), teacher.data(), teacher.size());
    int flips = 0;
    for (int r = 0; r < T * B; ++r) {
      const int a = int(tg.y[std::size_t(r)]), b = int(tc.y[std::size_t(r)]);
      ASSERT_TRUE(a >= 0 && a < C && b >= 0 && b < C) << tag << ": target " << a << " / " << b;
      if (a == b) continue;
      ++flips;
      // Each side's pick is within its rounding of the exact maximum: the exact logits of the two
      // picks differ by at most gamma_n (mag_a + mag_b).
      double la = 0, lb = 0, ma = 0, mb = 0;
      for (int k = 0; k < n.input; ++k) {
        const double xv = tc.x[std::size_t(r) * n.input + k];
        la += xv * teacher[std::size_t(a) * n.input + k];
        lb += xv * teacher[std::size_t(b) * n.input + k];
        ma += std::fabs(xv * teacher[std::size_t(a) * n.input + k]);
        mb += std::fabs(xv * teacher[std::size_t(b) * n.input + k]);
      }
      EXPECT_LE(std::fabs(la - lb), gamma_k(n.input) * (ma + mb) + 1e-30) << tag << ": teacher target flip at " << r;
    }
    EXPECT_LE(flips, T * B / 10) << tag << ": too many teacher flips";
  }
  ASSERT_EQ(first_difference(tg.dz, tc.dz), -1) << tag << ": softmax gradient";
  for (int l = L - 1; l >= 0; --l) {
    const std::size_t ul = std::size_t(l);
    const std::string where = tag + ", layer " + std::to_string(l + 1);
    // dh_in[l] = g W_{l+1}, g = dz (l = L - 1) or ds[l + 1]; same operands.
    const std::vector<float>& gin = l == L - 1 ? tc.dz : tc.ds[ul + 1];
    const std::vector<float>& wn = tc.w[ul + 1];
    const int n_out = l == L - 1 ? C : width(l + 1), n_in = width(l);
    expect_gemm_close(
        tg.dh_in[ul], tc.dh_in[ul], T, B, n_in, n_out,
        [&](int t, int i, int p) { return gin[(std::size_t(t) * B + i) * n_out + p]; },
        [&](int t, int p, int j) { return wn[(std::size_t(t) * n_out + p) * n_in + j]; }, where + ": dC/dh");
    ASSERT_EQ(first_difference(tg.ds[ul], tc.ds[ul]), -1) << where << ": g * f'(s)";
    const int qb = int(Quantity::BackpropGradient), qw = int(Quantity::WeightGradient),
              qj = int(Quantity::JacobianSingularValue);
    for (int t = 0; t < T; ++t) {
      const std::string wt = where + ", trial " + std::to_string(t);
      if (n.stats.enabled[qb]) {
        expect_same_stats(at(tg, n, t, l, qb), at(tc, n, t, l, qb), wt + ": backprop gradient");
      } else {
        EXPECT_TRUE(at(tg, n, t, l, qb).hist.empty()) << wt;
      }
    }
    if (n.stats.enabled[qw]) {
      // dW[l] = ds[l]^T h[l-1]: length-B dot products.
      const std::vector<float>& hp = l == 0 ? tc.x : tc.h[ul - 1];
      const int wo = width(l), wi = width(l - 1);
      expect_gemm_close(
          tg.dw[ul], tc.dw[ul], T, wo, wi, B, [&](int t, int i, int p) { return tc.ds[ul][(std::size_t(t) * B + p) * wo + i]; },
          [&](int t, int p, int j) { return hp[(std::size_t(t) * B + p) * wi + j]; }, where + ": dC/dW");
      const std::size_t pw = std::size_t(wo) * wi;
      for (int t = 0; t < T; ++t) {
        const std::string wt = where + ", trial " + std::to_string(t) + ": weight gradient";
        const float* xg = tg.dw[ul].data() + t * pw;
        const float* xc = tc.dw[ul].data() + t * pw;
        double D = 0;
        for (std::size_t i = 0; i < pw; ++i) D = std::max(D, std::fabs(double(xg[i]) - double(xc[i])));
        expect_consistent(at(tg, n, t, l, qw), xg, pw, n.stats.range[qw], n.stats, wt);
        expect_close(at(tg, n, t, l, qw), at(tc, n, t, l, qw), xc, pw, n.stats.range[qw], D, wt);
      }
    }
    if (n.stats.enabled[qj])
      for (int t = 0; t < T; ++t) {
        const std::vector<float> sv = cpu_singular_values(tc, n, t, l);
        const double D = 1e-4 * *std::max_element(sv.begin(), sv.end());
        expect_close(at(tg, n, t, l, qj), at(tc, n, t, l, qj), sv.data(), sv.size(), n.stats.range[qj], D,
                     where + ", trial " + std::to_string(t) + ": Jacobian singular values");
      }
  }
}

}  // namespace

TEST(GpuBackward, EveryActivationMatchesCpuOpByOp) {
  REQUIRE_GPU();
  for (Activation a : {Activation::Linear, Activation::Sigmoid, Activation::Tanh, Activation::Softsign,
                       Activation::Relu, Activation::LeakyRelu})
    check_network(make_bnet(a), to_string(a));
}

TEST(GpuBackward, TeacherTargetsRandomBiasesAndWiderLayers) {
  // Teacher targets (GEMM + argmax), per-unit random biases on the output layer, more outputs than
  // inputs (the Jacobian stored untransposed for gesvd: n_out > n_in), and layers whose weight
  // gradients span several statistics tiles.
  REQUIRE_GPU();
  BNet n = make_bnet(Activation::Tanh);
  n.targets = TargetKind::Teacher;
  n.bias_std = 0.25f;
  n.samples = 24;
  n.input = 40;
  n.hidden = {130, 90};
  n.classes = 12;
  check_network(n, "tanh, teacher, random biases");
}

TEST(GpuBackward, QuantitiesOffAreLeftEmpty) {
  // backprop_gradient off while weight_gradient is on: g * f'(s) is still applied (its own kernel),
  // no statistics are reported for it; Jacobians off: none.
  REQUIRE_GPU();
  BNet n = make_bnet(Activation::Relu);
  n.stats.enabled[int(Quantity::BackpropGradient)] = false;
  n.stats.enabled[int(Quantity::JacobianSingularValue)] = false;
  check_network(n, "relu, backprop statistics off");
  auto g = make_cuda_backend(0, {});
  const BTrace tg = run_backward(*g, n, nullptr);
  for (int t = 0; t < n.trials; ++t)
    for (int l = 0; l < int(n.hidden.size()); ++l) {
      EXPECT_TRUE(at(tg, n, t, l, int(Quantity::BackpropGradient)).hist.empty());
      EXPECT_TRUE(at(tg, n, t, l, int(Quantity::JacobianSingularValue)).hist.empty());
      EXPECT_FALSE(at(tg, n, t, l, int(Quantity::WeightGradient)).hist.empty());
    }
}

TEST(GpuBackward, LargeGradientHistogramsAreConsistent) {
  // 6000 bins per gradient quantity: the statistics kernel's global-atomic histogram path; the
  // GPU's own gradients against compute_stats (exact counts, histograms and percentiles).
  REQUIRE_GPU();
  BNet n = make_bnet(Activation::Softsign);
  n.samples = 64;
  n.hidden = {300, 200};
  n.stats.range[int(Quantity::BackpropGradient)].bins = 6000;
  n.stats.range[int(Quantity::WeightGradient)].bins = 6000;
  n.stats.percentiles = {0.0, 1.0, 2.0, 25.0, 50.0, 75.0, 98.0, 99.5, 100.0};
  n.stats.enabled[int(Quantity::JacobianSingularValue)] = false;
  auto g = make_cuda_backend(0, {});
  const BTrace tg = run_backward(*g, n, nullptr);
  for (int t = 0; t < n.trials; ++t)
    for (int l = 0; l < 2; ++l) {
      const int w = n.hidden[std::size_t(l)], wi = l == 0 ? n.input : n.hidden[0];
      const std::size_t per = std::size_t(n.samples) * w, pw = std::size_t(w) * wi;
      const std::string where = "trial " + std::to_string(t) + ", layer " + std::to_string(l + 1);
      expect_consistent(at(tg, n, t, l, 2), tg.ds[std::size_t(l)].data() + t * per, per, n.stats.range[2], n.stats,
                        where + ": backprop gradient");
      expect_consistent(at(tg, n, t, l, 3), tg.dw[std::size_t(l)].data() + t * pw, pw, n.stats.range[3], n.stats,
                        where + ": weight gradient");
    }
}
