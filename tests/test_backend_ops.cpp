// test_backend_ops.cpp — every backend op, in the runner's own sequence (run_chunk_ops), on every
// available backend against the CPU reference (in the spirit of ggml's test-backend-ops).
//
// The reference runs each configuration on the CPU backend and records every op's operands before
// it and its outputs after it. Each backend under test then runs the same sequence; before every op
// it is given the reference's operands (Backend::upload), so that each op is compared on identical
// inputs, and after it its outputs are compared with the reference's:
//  - draws, biases, activations, g * f'(s), softmax gradients, random targets: the shared math of
//    kernels/, so bit-identical;
//  - GEMMs: OpenBLAS and cuBLAS sum a k-term dot product in different orders. Higham's bound for
//    any order in binary32 (u = 2^-24), with or without FMA: |fl(s) - s| <= gamma_k sum |x_i||y_i|,
//    gamma_k = k u / (1 - k u); two results differ by at most twice that, plus k 2^-149 per side
//    for products that underflow. Asserted element by element (sums that may overflow are skipped);
//  - teacher targets: the argmax of teacher logits computed by either GEMM, so a sample may change
//    class only where the reference's two largest logits lie within that bound of each other;
//  - the chunk statistics (end_chunk) of values that are then bit-identical: counts, histograms and
//    order statistics exactly; min and max exactly; mean and M2 to 1e-12 relative (the only
//    freedom is the order of the double-precision sums: relative error <= n 2^-53 ~ 1e-13 for
//    n < 1e3 per tile merge); the pair cosines to 1e-12;
//  - Jacobian singular values: two backward-stable SVDs in binary32 of matrices of norm ~1 differ
//    by a few 1e-7 of the largest; statistics within 1e-5 of the largest singular value, histogram
//    counts equal up to values within that of a bin edge.
// A second CPU backend with another thread count is always under test and must agree bit for bit
// everywhere (the CPU's results do not depend on threads). The CUDA backend is under test when
// built and a GPU is usable; otherwise its test skips, saying why.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"
#include "host/cpu/svd.h"
#include "kernels/init.h"
#include "kernels/percentile.h"

using namespace isc;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
double gamma_k(int k) {
  const double u = std::ldexp(1.0, -24);
  return k * u / (1 - k * u);
}

std::vector<float> get(Backend& b, const Operand& o) {
  std::vector<float> v(o.floats);
  b.download(*o.buf, v.data(), v.size());
  return v;
}

// One op of the reference run: what it read and what it wrote.
struct Snapshot {
  std::string op;
  int layer;
  std::vector<std::vector<float>> in, out;
};

class Recorder : public OpObserver {
 public:
  std::vector<Snapshot> ops;
  void before(Backend& b, const OpCall& c) override {
    Snapshot s{c.op, c.layer, {}, {}};
    for (const auto& o : c.in) s.in.push_back(get(b, o));
    ops.push_back(std::move(s));
  }
  void after(Backend& b, const OpCall& c) override {
    for (const auto& o : c.out) ops.back().out.push_back(get(b, o));
  }
};

// The configuration's layer widths (-1: the input, L: the output layer).
struct Shape {
  int T, B, L;
  std::vector<int> w;  // w[l + 1]
  int width(int l) const { return w[std::size_t(l + 1)]; }
};
Shape shape_of(const Config& c, int trials) {
  Shape s{trials, c.samples, int(c.network.hidden.size()), {c.network.input}};
  for (int h : c.network.hidden) s.w.push_back(h);
  s.w.push_back(c.network.output);
  return s;
}

// Whether a GEMM result differs from the reference within the bound (see the top). a[t][i][k] and
// b[t][j][k] style accessors are given as strides: out[t][r][col] = sum_k A(t, r, k) B(t, col, k).
struct GemmView {
  int rows, cols, k;
  std::size_t a_t, a_r, a_k;  // strides of A over trial, row, k
  std::size_t b_t, b_c, b_k;  // strides of B over trial, column, k
};
void expect_gemm_within_bound(const std::vector<float>& got, const std::vector<float>& ref, const std::vector<float>& A,
                              const std::vector<float>& Bm, const GemmView& g, int T, const std::string& where) {
  ASSERT_EQ(got.size(), ref.size()) << where;
  const double gamma = gamma_k(g.k), tiny = 2 * g.k * std::ldexp(1.0, -149);
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < g.rows; ++r)
      for (int col = 0; col < g.cols; ++col) {
        double mag = 0;
        for (int k = 0; k < g.k; ++k)
          mag += std::fabs(double(A[t * g.a_t + r * g.a_r + k * g.a_k])) *
                 std::fabs(double(Bm[t * g.b_t + col * g.b_c + k * g.b_k]));
        const std::size_t e = (std::size_t(t) * g.rows + r) * g.cols + col;
        if (!(mag * (1 + 2 * gamma) < double(FLT_MAX))) continue;  // may overflow (or NaN operands)
        ASSERT_LE(std::fabs(double(got[e]) - double(ref[e])), 2 * gamma * mag + tiny)
            << where << " [" << t << "][" << r << "][" << col << "]";
      }
}

void expect_bits(const std::vector<float>& got, const std::vector<float>& ref, const std::string& where) {
  ASSERT_EQ(got.size(), ref.size()) << where;
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_TRUE(bits(got[i]) == bits(ref[i]) || (std::isnan(got[i]) && std::isnan(ref[i])))
        << where << " [" << i << "]: " << got[i] << " vs " << ref[i];
}

// Runs the sequence on the backend under test, feeding and comparing op by op.
class Checker : public OpObserver {
 public:
  Checker(const std::vector<Snapshot>& ref, const Config& c, const Shape& s, bool exact, uint64_t stream)
      : ref_(ref), c_(c), s_(s), exact_(exact), stream_(stream) {}

  void before(Backend& b, const OpCall& c) override {
    ASSERT_LT(i_, ref_.size()) << "more ops than the reference";
    const Snapshot& r = ref_[i_];
    ASSERT_EQ(r.op, c.op) << "op " << i_;
    ASSERT_EQ(r.layer, c.layer) << "op " << i_;
    ASSERT_EQ(r.in.size(), c.in.size());
    for (std::size_t k = 0; k < c.in.size(); ++k) b.upload(*c.in[k].buf, r.in[k].data(), r.in[k].size());
  }

  void after(Backend& b, const OpCall& c) override {
    const Snapshot& r = ref_[i_++];
    const std::string where = std::string(c.op) + " (layer " + std::to_string(c.layer + 1) + ")";
    std::vector<std::vector<float>> out;
    for (const auto& o : c.out) out.push_back(get(b, o));
    const std::string op = c.op;
    if (op == "jacobian_stats") record_singular_values(r, c.layer);
    for (std::size_t k = 0; k < out.size(); ++k) {
      const std::string w = where + " output " + std::to_string(k);
      if (exact_) {
        expect_bits(out[k], r.out[k], w);
      } else if (op == "gemm_forward" || op == "gemm_backward_data" || op == "gemm_weight_grad") {
        expect_gemm_within_bound(out[k], r.out[k], r.in[0], r.in[1], gemm_view(op, c.layer), s_.T, w);
      } else if (op == "fill_targets" && c_.targets == TargetKind::Teacher) {
        expect_teacher_flips_bounded(out[k], r.out[k], r.in[0], w);
      } else {
        expect_bits(out[k], r.out[k], w);
      }
    }
  }

  std::size_t ops() const { return i_; }
  // The reference's singular values per layer: [layer] -> all of the chunk's, and the largest.
  std::vector<std::vector<float>> sv;

 private:
  GemmView gemm_view(const std::string& op, int l) const {
    const int B = s_.B, n_out = s_.width(l), n_in = s_.width(l - 1);
    const std::size_t W = std::size_t(n_out) * n_in;
    if (op == "gemm_forward")  // s[t][i][o] = sum_k h[t][i][k] w[t][o][k]
      return {B, n_out, n_in, std::size_t(B) * n_in, std::size_t(n_in), 1, W, std::size_t(n_in), 1};
    if (op == "gemm_backward_data")  // dh[t][i][k] = sum_o g[t][i][o] w[t][o][k]
      return {B, n_in, n_out, std::size_t(B) * n_out, std::size_t(n_out), 1, W, 1, std::size_t(n_in)};
    // dw[t][o][k] = sum_i g[t][i][o] h[t][i][k]
    return {n_out, n_in, B, std::size_t(B) * n_out, 1, std::size_t(n_out), std::size_t(B) * n_in, 1, std::size_t(n_in)};
  }

  void expect_teacher_flips_bounded(const std::vector<float>& got, const std::vector<float>& ref,
                                    const std::vector<float>& x, const std::string& where) {
    const int n_in = c_.network.input, C = c_.network.output;
    std::vector<float> teacher(std::size_t(C) * n_in);
    const LayerDraw d{DrawKind::Normal, float(1.0 / std::sqrt(double(n_in)))};
    for (std::size_t e = 0; e < teacher.size(); e += 4) {
      float v[4];
      draw4(d, stream_, teacher_subsequence(), e / 4, v);
      for (std::size_t j = 0; j < 4 && e + j < teacher.size(); ++j) teacher[e + j] = v[j];
    }
    const double gamma = gamma_k(n_in);
    for (std::size_t r = 0; r < ref.size(); ++r) {
      if (got[r] == ref[r]) continue;
      const float* xr = &x[r * std::size_t(n_in)];
      auto logit = [&](int k, double* mag) {
        double z = 0, m = 0;
        for (int i = 0; i < n_in; ++i) {
          z += double(xr[i]) * teacher[std::size_t(k) * n_in + i];
          m += std::fabs(double(xr[i]) * teacher[std::size_t(k) * n_in + i]);
        }
        *mag = m;
        return z;
      };
      double ma = 0, mb = 0;
      const double za = logit(int(got[r]), &ma), zb = logit(int(ref[r]), &mb);
      EXPECT_LE(std::fabs(za - zb), 2 * gamma * (ma + mb)) << where << ": sample " << r << " changed class";
    }
  }

  void record_singular_values(const Snapshot& r, int layer) {
    const int n_out = s_.width(layer), n_in = s_.width(layer - 1), J = c_.stats.jacobian_samples;
    if (sv.size() <= std::size_t(layer)) sv.resize(std::size_t(layer) + 1);
    const std::size_t k = std::size_t(std::min(n_out, n_in));
    for (int t = 0; t < s_.T; ++t)
      for (int j = 0; j < J; ++j) {
        std::vector<float> v(k);
        jacobian_singular_values(&r.in[0][(std::size_t(t) * s_.B + j) * n_out], &r.in[1][std::size_t(t) * n_out * n_in],
                                 c_.network.activation, n_out, n_in, v.data());
        sv[std::size_t(layer)].insert(sv[std::size_t(layer)].end(), v.begin(), v.end());
      }
  }

  const std::vector<Snapshot>& ref_;
  const Config& c_;
  Shape s_;
  bool exact_;
  uint64_t stream_;
  std::size_t i_ = 0;
};

// The chunk statistics of the backend under test against the reference's (see the top).
void expect_same_chunk_stats(const ChunkStats& g, const ChunkStats& r, bool exact,
                             const std::vector<std::vector<float>>& sv, const std::string& tag) {
  ASSERT_EQ(g.measured, r.measured) << tag;
  const std::size_t P = r.spec.percentiles.size();
  for (int t = 0; t < r.trials; ++t)
    for (int l = 0; l < r.layers; ++l) {
      const std::size_t tl = std::size_t(t) * r.layers + l;
      if (std::isnan(r.pair_corr[tl]))
        EXPECT_TRUE(std::isnan(g.pair_corr[tl])) << tag;
      else if (exact)
        EXPECT_EQ(g.pair_corr[tl], r.pair_corr[tl]) << tag;
      else
        EXPECT_NEAR(g.pair_corr[tl], r.pair_corr[tl], 1e-12)
            << tag << ": pair_corr, trial " << t << ", layer " << l + 1;
      for (int q = 0; q < kQuantities; ++q) {
        if (r.measured[std::size_t(l) * kQuantities + q] < 0) continue;
        const std::string where =
            tag + ", trial " + std::to_string(t) + ", layer " + std::to_string(l + 1) + ", " + to_string(Quantity(q));
        const std::size_t o = r.cell(t, l, q);
        const Moments &gm = g.moments[o], &rm = r.moments[o];
        const uint64_t* gh = &g.hist[tl * g.layout.stride + g.layout.offset[q]];
        const uint64_t* rh = &r.hist[tl * r.layout.stride + r.layout.offset[q]];
        const int slots = r.spec.range[q].bins + 2;
        for (int k = 0; k < ChunkStats::kCounts; ++k)
          EXPECT_EQ(g.counts[o * ChunkStats::kCounts + k], r.counts[o * ChunkStats::kCounts + k]) << where;
        EXPECT_EQ(gm.n, rm.n) << where;
        const bool spread = rm.n > 0 && rm.max > rm.min;
        if (q == int(Quantity::JacobianSingularValue) && !exact) {
          const std::vector<float>& v = sv.at(std::size_t(l));
          const double tol = 1e-5 * double(*std::max_element(v.begin(), v.end())) + 1e-30;
          EXPECT_NEAR(gm.mean, rm.mean, tol) << where;
          EXPECT_NEAR(std::sqrt(gm.m2 / gm.n), std::sqrt(rm.m2 / rm.n), tol) << where;
          EXPECT_NEAR(gm.min, rm.min, tol) << where;
          EXPECT_NEAR(gm.max, rm.max, tol) << where;
          for (std::size_t i = 0; i < P; ++i) {
            const double p = r.spec.percentiles[i];
            const uint64_t n = uint64_t(rm.n);
            EXPECT_NEAR(percentile_value(p, n, g.order[o * 2 * P + 2 * i], g.order[o * 2 * P + 2 * i + 1]),
                        percentile_value(p, n, r.order[o * 2 * P + 2 * i], r.order[o * 2 * P + 2 * i + 1]), tol)
                << where << ": p" << p;
          }
          // Histogram: each value within tol of an edge may move one bin (two counts change).
          const Binner bn = make_binner(r.spec.range[q]);
          uint64_t near = 0, diff = 0, tg = 0, tr = 0;
          for (float x : v)
            for (int e = 0; e <= bn.bins; ++e)
              if (std::fabs(double(x) - double(hist_edge(bn, e))) <= tol) {
                ++near;
                break;
              }
          for (int k = 0; k < slots; ++k) {
            diff += gh[k] > rh[k] ? gh[k] - rh[k] : rh[k] - gh[k];
            tg += gh[k];
            tr += rh[k];
          }
          EXPECT_EQ(tg, tr) << where;
          EXPECT_LE(diff, 2 * near) << where;
          continue;
        }
        for (int k = 0; k < slots; ++k) ASSERT_EQ(gh[k], rh[k]) << where << ": histogram slot " << k;
        if (rm.n == 0) continue;
        EXPECT_EQ(gm.min, rm.min) << where;
        EXPECT_EQ(gm.max, rm.max) << where;
        if (exact) {
          EXPECT_EQ(gm.mean, rm.mean) << where;
          EXPECT_EQ(gm.m2, rm.m2) << where;
        } else {
          const double scale = std::fabs(rm.mean) + std::sqrt(rm.m2 / rm.n) + 1e-300;
          EXPECT_NEAR(gm.mean, rm.mean, 1e-12 * scale) << where;
          EXPECT_NEAR(gm.m2, rm.m2, 1e-12 * rm.m2 + 1e-300) << where;
        }
        if (spread) {
          for (std::size_t i = 0; i < 2 * P; ++i) {  // -0 and +0 compare equal
            EXPECT_TRUE(g.order[o * 2 * P + i] == r.order[o * 2 * P + i]) << where << ": order statistic " << i;
          }
        }
      }
    }
}

// Runs every configuration of `toml` on the reference and on `b`, comparing op by op.
void check_backend(Backend& b, const std::string& toml) {
  const Experiment ex = parse_experiment(toml, "backend_ops.toml");
  auto ref = make_backend("cpu", {});
  const bool exact = b.name().rfind("cpu", 0) == 0;
  for (const auto& p : ex.points) {
    const Config& c = p.config;
    std::string tag = b.name();
    for (const auto& kv : p.swept) tag += " " + kv.first + "=" + kv.second;
    const int T = int(c.trials);
    const uint64_t first = 5;  // not a chunk that starts at trial 0
    Workspace wr = make_workspace(*ref, workspace_size(c, T)), wb = make_workspace(b, workspace_size(c, T));
    Recorder rec;
    const ChunkStats rs = run_chunk_ops(*ref, wr, c, p.stream, first, T, &rec);
    Checker chk(rec.ops, c, shape_of(c, T), exact, p.stream);
    const ChunkStats bs = run_chunk_ops(b, wb, c, p.stream, first, T, &chk);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(chk.ops(), rec.ops.size()) << tag;
    expect_same_chunk_stats(bs, rs, exact, chk.sv, tag);
  }
}

// The configurations every backend is checked on: small, odd sizes; every activation and scheme;
// random biases and correlated pairs; non-finite values; histograms too large for GPU shared memory
// and many percentiles with ties; every backward quantity with both target kinds.
const char* kForward =
    "trials = 3\nsamples = 19\n[network]\ninput = 37\nhidden = [29, 23]\nbias = 0.1\n"
    "[stats]\nbins = 50\n[sweep]\n"
    "\"network.activation\" = [\"linear\", \"sigmoid\", \"tanh\", \"softsign\", \"relu\", \"leaky_relu\"]\n"
    "\"network.init\" = [\"zeros\", \"constant\", \"uniform\", \"standard\", \"xavier_uniform\", \"xavier_normal\", "
    "\"lecun_uniform\", \"lecun_normal\", \"he_uniform\", \"he_normal\"]\n";
const char* kBiasesAndPairs =
    "trials = 3\nsamples = 20\n[network]\ninput = 37\nhidden = [29, 23]\nactivation = \"tanh\"\n"
    "init = \"xavier_normal\"\nbias = 0.1\nbias_std = 0.3\n[data]\npair_correlation = 0.6\n"
    "[sweep]\n\"data.pair_correlation\" = [0.6, -0.3]\n";
const char* kNonFinite =  // U[-1e12, 1e12]: the sums grow ~1e13 per layer, overflow to +-Inf, then Inf - Inf = NaN
    "trials = 3\nsamples = 19\n[network]\ninput = 37\nhidden = [16, 16, 16, 16, 16, 16]\nactivation = \"linear\"\n"
    "init = \"uniform\"\ninit_bound = 1e6\ngain = 1e6\n";
const char* kLargeHistograms =
    "trials = 2\nsamples = 64\n[network]\ninput = 37\nhidden = [300, 200]\nactivation = \"relu\"\n"
    "init = \"he_normal\"\nbias = -0.5\n[stats]\nbins = 6000\n"
    "percentiles = [0, 1, 2, 25, 50, 75, 98, 99.5, 100]\n";
const char* kBackward =
    "trials = 3\nsamples = 17\n[network]\ninput = 21\nhidden = [19, 13, 11]\noutput = 7\nbias = 0.05\n"
    "bias_std = 0.2\n[stats]\nbins = 40\n"
    "quantities = [\"preactivation\", \"activation\", \"backprop_gradient\", \"weight_gradient\", "
    "\"jacobian_singular_value\"]\njacobian_samples = 2\n[sweep]\n"
    "\"network.activation\" = [\"linear\", \"sigmoid\", \"tanh\", \"softsign\", \"relu\", \"leaky_relu\"]\n"
    "\"targets.kind\" = [\"random\", \"teacher\"]\n";
const char* kTeacherWide =  // teacher targets, random biases, more outputs than inputs (J stored untransposed
                            // for gesvd), weight gradients spanning several statistics tiles
    "trials = 2\nsamples = 24\n[network]\ninput = 40\nhidden = [130, 90]\noutput = 12\nactivation = \"tanh\"\n"
    "bias_std = 0.25\n[targets]\nkind = \"teacher\"\n[stats]\n"
    "quantities = [\"activation\", \"backprop_gradient\", \"weight_gradient\", \"jacobian_singular_value\"]\n";
const char* kQuantitiesOff =  // g * f'(s) still applied with its statistics off; then only weight gradients
    "trials = 2\nsamples = 9\n[network]\ninput = 20\nhidden = [24, 8]\noutput = 3\nactivation = \"relu\"\n"
    "[stats]\nquantities = [\"activation\", \"weight_gradient\"]\n";
const char* kLargeGradientHistograms =  // 6000 bins per gradient quantity, many percentiles
    "trials = 2\nsamples = 64\n[network]\ninput = 37\nhidden = [300, 200]\noutput = 5\nactivation = \"softsign\"\n"
    "[stats]\nbins = 6000\npercentiles = [0, 1, 2, 25, 50, 75, 98, 99.5, 100]\n"
    "quantities = [\"backprop_gradient\", \"weight_gradient\"]\n";

void check_all(Backend& b) {
  for (const char* toml : {kForward, kBiasesAndPairs, kNonFinite, kLargeHistograms, kBackward, kTeacherWide,
                           kQuantitiesOff, kLargeGradientHistograms}) {
    SCOPED_TRACE(toml);
    check_backend(b, toml);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace

TEST(BackendOps, CpuWithOneThreadIsBitIdentical) {
  auto b = make_backend("cpu", {1});
  check_all(*b);
}

TEST(BackendOps, CudaMatchesCpuOpByOp) {
  std::unique_ptr<Backend> b;
  try {
    b = make_backend("cuda", {});
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no CUDA backend: " << e.what();
  }
  check_all(*b);
}
