// test_stats.cpp — the CPU statistics reference against naive computations (sort, two-pass).
#include <gtest/gtest.h>

#include <limits>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "host/backend/chunk_stats.h"
#include "host/cpu/cpu_stats.h"
#include "host/cpu/hist_keys.h"
#include "host/cpu/isa.h"
#include "host/cpu/select_small.h"
#include "kernels/percentile.h"
#include "kernels/rng.h"

using namespace isc;

namespace {
// numpy's default percentile: linear interpolation between order statistics.
double naive_percentile(std::vector<float> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p / 100.0 * double(v.size() - 1);
  const size_t i = size_t(std::floor(pos));
  const double f = pos - double(i);
  return i + 1 < v.size() ? v[i] + f * (double(v[i + 1]) - v[i]) : v[i];
}
}  // namespace

TEST(CpuStats, MatchesNaiveReference) {
  std::mt19937 gen(5);
  std::normal_distribution<float> nd(0.3f, 2.0f);
  std::vector<float> x(100003);
  for (auto& v : x) v = nd(gen);
  std::vector<float> scratch;
  TrialStats st;
  const std::vector<double> ps{0.0, 2.0, 50.0, 98.0, 100.0};
  compute_stats(x.data(), x.size(), HistRange{-3.0f, 3.0f, 60}, ps, Counting{}, st, scratch);
  double s = 0;
  for (float v : x) s += v;
  const double mean = s / x.size();
  double m2 = 0;
  for (float v : x) m2 += (v - mean) * (v - mean);
  EXPECT_EQ(st.count, x.size());
  EXPECT_NEAR(st.m.mean, mean, 1e-12);
  EXPECT_NEAR(st.m.m2, m2, 1e-9 * m2);
  EXPECT_EQ(st.m.min, *std::min_element(x.begin(), x.end()));
  EXPECT_EQ(st.m.max, *std::max_element(x.begin(), x.end()));
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_FLOAT_EQ(st.percentiles[i], float(naive_percentile(x, ps[i]))) << ps[i];
  uint64_t total = 0;
  for (auto c : st.hist) total += c;
  EXPECT_EQ(total, x.size());
  const Binner b = make_binner(HistRange{-3.0f, 3.0f, 60});
  uint64_t under = 0, bin7 = 0;
  for (float v : x) {
    under += v < -3.0f;
    bin7 += v >= hist_edge(b, 7) && v < hist_edge(b, 8);
  }
  EXPECT_EQ(st.hist[0], under);
  EXPECT_EQ(st.hist[8], bin7);
}

TEST(CpuStats, NanAndInfAreCountedApart) {
  std::vector<float> x{1.0f, NAN, 2.0f, INFINITY, -INFINITY, 3.0f, NAN, -5.0f};
  std::vector<float> scratch;
  TrialStats st;
  compute_stats(x.data(), x.size(), HistRange{0.0f, 4.0f, 4}, {0.0, 50.0, 100.0}, Counting{}, st, scratch);
  EXPECT_EQ(st.count, 8u);
  EXPECT_EQ(st.nan, 2u);
  EXPECT_EQ(st.inf, 2u);
  EXPECT_EQ(st.m.n, 4.0);  // finite: 1 2 3 -5
  EXPECT_DOUBLE_EQ(st.m.mean, 0.25);
  EXPECT_EQ(st.percentiles[0], -5.0f);
  EXPECT_EQ(st.percentiles[1], 1.5f);
  EXPECT_EQ(st.percentiles[2], 3.0f);
  EXPECT_EQ(st.hist[0], 2u);  // -5 and -inf
  EXPECT_EQ(st.hist[5], 1u);  // +inf
}

TEST(CpuStats, SaturationAndAllNan) {
  ActivationSpec a;
  a.kind = Activation::Tanh;
  a.threshold = 0.9f;
  std::vector<float> x{0.95f, -0.91f, 0.2f, 0.0f};
  std::vector<float> scratch;
  TrialStats st;
  compute_stats(x.data(), x.size(), HistRange{-1.0f, 1.0f, 10}, {50.0}, counting_for(Quantity::Activation, a), st,
                scratch);
  EXPECT_EQ(st.counted[kCountSaturated], 2u);
  EXPECT_DOUBLE_EQ(st.fraction(kCountSaturated), 0.5);
  std::vector<float> y{NAN, NAN};
  compute_stats(y.data(), y.size(), HistRange{-1.0f, 1.0f, 10}, {50.0}, counting_for(Quantity::Activation, a), st,
                scratch);
  EXPECT_EQ(st.nan, 2u);
  EXPECT_TRUE(std::isnan(st.percentiles[0]));
}

TEST(CpuStats, PercentilesThroughAMonotoneMapAreExact) {
  // h = tanh(s): h's order statistics taken as tanh(s's) must be exactly those of h itself
  // (they are verified by counting); wrong candidates must fall back to selection.
  std::mt19937 gen(9);
  std::normal_distribution<float> nd(0.0f, 1.5f);
  std::vector<float> s(50001), h(s.size());
  ActivationSpec a;
  a.kind = Activation::Tanh;
  for (std::size_t i = 0; i < s.size(); ++i) h[i] = activate(a, s[i] = nd(gen));
  const std::vector<double> ps{0.5, 2.0, 50.0, 98.0};
  std::vector<float> scratch;
  TrialStats ts, direct, via;
  OrderStats so;
  compute_stats(s.data(), s.size(), HistRange{-5, 5, 50}, ps, Counting{}, ts, scratch, &so);
  compute_stats(h.data(), h.size(), HistRange{-1, 1, 50}, ps, Counting{}, direct, scratch);
  compute_stats(h.data(), h.size(), HistRange{-1, 1, 50}, ps, Counting{}, via, scratch, nullptr, &so, &a);
  EXPECT_EQ(via.percentiles, direct.percentiles);
  for (std::size_t i = 0; i < ps.size(); ++i) EXPECT_FLOAT_EQ(direct.percentiles[i], float(naive_percentile(h, ps[i])));
  OrderStats wrong = so;
  for (float& v : wrong.vals) v += 0.25f;
  TrialStats fallback;
  compute_stats(h.data(), h.size(), HistRange{-1, 1, 50}, ps, Counting{}, fallback, scratch, nullptr, &wrong, &a);
  EXPECT_EQ(fallback.percentiles, direct.percentiles);
}

TEST(CpuStats, HistKeysRefineSlotsMonotonically) {
  // The keyed histogram behind exact selection: key / sub is the histogram slot, and keys never
  // decrease as x increases (linear and symmetric-log bins, edges, under/overflow, the closed last bin).
  for (const HistRange r : {HistRange{-3.0f, 3.0f, 60}, HistRange{-2.5f, 2.5f, 7, 1e-3f}, HistRange{0.0f, 1.0f, 100}}) {
    const Binner b = make_binner(r);
    std::vector<float> x;
    for (int i = -40000; i <= 40000; ++i) x.push_back(float(i) * 1e-4f * (r.linthresh > 0 ? 100.0f : 1.0f));
    for (int i = 0; i <= r.bins; ++i) {
      const float e = r.linthresh > 0 ? 0.0f : hist_edge(b, i);  // edges in x for linear bins
      x.push_back(e);
      x.push_back(std::nextafter(e, -1e30f));
      x.push_back(std::nextafter(e, 1e30f));
    }
    std::sort(x.begin(), x.end());
    std::vector<int32_t> keys(x.size());
    cpu_hist_keys(x.data(), x.size(), b, 64, keys.data());
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(keys[i] / 64, hist_slot(b, x[i])) << "x " << x[i];
      if (i > 0) {
        ASSERT_LE(keys[i - 1], keys[i]) << "x " << x[i - 1] << " then " << x[i];
      }
    }
  }
}

TEST(CpuStats, KeyedSelectionIsExactAcrossShapes) {
  // Percentiles through the keyed histogram (and its fallback) equal a full sort's, for data inside
  // the range, piled on one value, spread over symmetric-log bins, mostly outside the range, and
  // with NaN/Inf mixed in.
  std::mt19937 gen(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const std::vector<double> ps{0.0, 2.0, 25.0, 50.0, 75.0, 98.0, 100.0};
  struct Case {
    const char* name;
    HistRange r;
    std::function<float(int)> gen;
  };
  const std::vector<Case> cases = {
      {"gaussian", HistRange{-5.0f, 5.0f, 100}, [&](int) { return nd(gen); }},
      {"relu pile", HistRange{0.0f, 5.0f, 100}, [&](int) { return std::max(0.0f, nd(gen)); }},
      {"symlog", HistRange{-6.0f, 6.0f, 100, 1e-6f}, [&](int) { return nd(gen) * 1e-4f; }},
      {"outside", HistRange{-0.1f, 0.1f, 10}, [&](int) { return 10.0f * nd(gen); }},
      {"ties", HistRange{-5.0f, 5.0f, 100}, [&](int) { return std::round(nd(gen) * 4.0f) / 4.0f; }},
      {"nonfinite", HistRange{-5.0f, 5.0f, 100},
       [&](int i) { return i % 997 == 0    ? NAN
                           : i % 1999 == 0 ? -INFINITY
                                           : nd(gen); }},
  };
  for (const auto& c : cases)
    for (std::size_t n : {1ul, 2ul, 1000ul, 65537ul}) {
      std::vector<float> x(n), fin;
      for (std::size_t i = 0; i < n; ++i) x[i] = c.gen(int(i) + 1);
      for (float v : x) {
        if (std::isfinite(v)) fin.push_back(v);
      }
      std::vector<float> scratch;
      TrialStats st;
      compute_stats(x.data(), n, c.r, ps, Counting{}, st, scratch);
      ASSERT_EQ(st.percentiles.size(), ps.size());
      for (std::size_t i = 0; i < ps.size(); ++i)
        EXPECT_FLOAT_EQ(st.percentiles[i], float(naive_percentile(fin, ps[i])))
            << c.name << " n " << n << " p " << ps[i];
    }
}

TEST(CpuStats, AccumulatorInPiecesEqualsOneCall) {
  // The forward op feeds StatsAccumulator piece by piece (kStatsBlock values each, the last
  // shorter): every statistic must be bit-identical to one compute_stats call over the array,
  // with NaN/Inf in some blocks, saturation counted, and percentiles both selected (keyed) and
  // taken through the monotone map.
  std::mt19937 gen(17);
  std::normal_distribution<float> nd(0.0f, 0.8f);
  const std::size_t n = 3 * kStatsBlock + 123;
  std::vector<float> s(n), h(n), scratch;
  for (auto& v : s) v = nd(gen);
  s[5000] = std::nanf("");
  s[9000] = INFINITY;
  ActivationSpec a;
  a.kind = Activation::Tanh;
  for (std::size_t i = 0; i < n; ++i) h[i] = activate(a, s[i]);
  const std::vector<double> ps = {2.0, 50.0, 98.0};
  const HistRange rs{-3.0f, 3.0f, 60}, rh{-1.0f, 1.0f, 40};
  TrialStats S1, H1;
  OrderStats o1, o2;
  compute_stats(s.data(), n, rs, ps, Counting{}, S1, scratch, &o1);
  compute_stats(h.data(), n, rh, ps, counting_for(Quantity::Activation, a), H1, scratch, nullptr, &o1, &a);
  // The pieces go into the cells of a one-trial, one-layer chunk, assembled as the runner does.
  StatsSpec spec;
  spec.range[0] = rs;
  spec.range[1] = rh;
  spec.percentiles = ps;
  ChunkStats chunk;
  chunk.reset(1, 1, spec);
  chunk.set_measured(0, 0, int64_t(n));
  chunk.set_measured(0, 1, int64_t(n));
  StatsAccumulator as(rs, ps, n, Counting{}, chunk.at(0, 0, 0)),
      ah(rh, ps, n, counting_for(Quantity::Activation, a), chunk.at(0, 0, 1), false);
  for (std::size_t start = 0; start < n; start += kStatsBlock) {
    const std::size_t len = std::min(kStatsBlock, n - start);
    as.add(s.data() + start, len);
    ah.add(h.data() + start, len);
  }
  as.finish(s.data(), scratch, &o2);
  ah.finish(h.data(), scratch, nullptr, &o2, &a);
  const auto assembled = assemble_trial_stats(chunk, 1.0);
  const TrialStats &S2 = assembled[0], &H2 = assembled[1];
  for (const auto& [x, y] : {std::pair<const TrialStats*, const TrialStats*>{&S1, &S2}, {&H1, &H2}}) {
    EXPECT_EQ(x->count, y->count);
    EXPECT_EQ(x->nan, y->nan);
    EXPECT_EQ(x->inf, y->inf);
    for (int k = 0; k < kCounted; ++k) EXPECT_EQ(x->counted[k], y->counted[k]);
    EXPECT_EQ(x->hist, y->hist);
    EXPECT_EQ(x->percentiles, y->percentiles);
    EXPECT_EQ(x->m.n, y->m.n);
    EXPECT_EQ(x->m.mean, y->m.mean);
    EXPECT_EQ(x->m.m2, y->m.m2);
    EXPECT_EQ(x->m.min, y->m.min);
    EXPECT_EQ(x->m.max, y->m.max);
  }
  EXPECT_EQ(S1.nan, 1u);
  EXPECT_EQ(S1.inf, 1u);
  EXPECT_GT(H1.counted[kCountSaturated], 0u);
}

TEST(ChunkStats, AssemblyInterpolatesLikeNumpy) {
  // One (trial, layer) of chunk arrays filled by hand, as a backend fills them (order statistics
  // from a sort): the assembled percentiles are numpy's linear interpolation of the sorted finite
  // values (written out here), counts and histograms are passed through, compute_stats gives the
  // same, and the quantity no op measured stays empty. Quantities: s, h, a gradient with
  // symmetric-log bins and a differently sized weight gradient.
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.2f, 1.5f);
  const int samples = 7, width = 11, bins = 10;
  const std::vector<double> ps{0.0, 2.0, 33.3, 50.0, 98.0, 100.0};
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<float> x[kQuantities];
    x[0].resize(samples * width);
    x[1].resize(samples * width);
    x[2].resize(samples * width);
    x[3].resize(width * 5);
    for (std::size_t i = 0; i < x[0].size(); ++i) {
      x[0][i] = variant == 2 ? 0.25f : nd(gen);  // variant 2: all values equal
      x[1][i] = std::tanh(x[0][i]);
      x[2][i] = x[0][i] * 1e-4f;
    }
    for (auto& v : x[3]) v = variant == 2 ? -3e-7f : nd(gen) * 1e-6f;
    if (variant == 1) {
      x[0][3] = std::numeric_limits<float>::quiet_NaN();
      x[1][3] = x[0][3];
      x[0][5] = std::numeric_limits<float>::infinity();
      x[3][2] = -std::numeric_limits<float>::infinity();
    }
    struct {
      StatsSpec stats;
    } c;
    c.stats.range[0] = HistRange{-2.0f, 2.0f, bins};
    c.stats.range[1] = HistRange{-1.0f, 1.0f, bins + 3};
    c.stats.range[2] = HistRange{-9.0f, 9.0f, bins + 5, 1e-10f};
    c.stats.range[3] = HistRange{-9.0f, 9.0f, bins + 5, 1e-10f};
    c.stats.range[4] = HistRange{0.0f, 4.0f, bins + 1};
    c.stats.percentiles = ps;
    const HistLayout hl = hist_layout(c.stats);
    EXPECT_EQ(hl.stride, uint64_t(5 * bins + 3 + 5 + 5 + 1 + 10));
    TrialStats ref[kQuantities];
    std::vector<float> scratch;
    ChunkStats d;
    d.reset(1, 1, c.stats);
    std::vector<float> numpy[kQuantities];
    for (int q = 0; q < 4; ++q) {
      compute_stats(x[q].data(), x[q].size(), c.stats.range[q], ps, Counting{}, ref[q], scratch);
      d.set_measured(0, q, int64_t(x[q].size()));
      const ChunkStats::Cell cell = d.at(0, 0, q);
      *cell.m = ref[q].m;
      cell.counts[ChunkStats::kNan] = ref[q].nan;
      cell.counts[ChunkStats::kInf] = ref[q].inf;
      std::copy(ref[q].hist.begin(), ref[q].hist.end(), cell.hist);
      std::vector<float> fin;
      for (float v : x[q])
        if (std::isfinite(v)) fin.push_back(v);
      std::sort(fin.begin(), fin.end());
      for (std::size_t i = 0; i < ps.size(); ++i) {
        for (int slot = 0; slot < 2; ++slot)
          cell.order[2 * i + std::size_t(slot)] = fin[percentile_rank(ps[i], fin.size(), slot)];
        const double pos = ps[i] / 100.0 * double(fin.size() - 1), lo = std::floor(pos);
        const std::size_t r = std::size_t(lo);
        numpy[q].push_back(
            r + 1 < fin.size() ? float(double(fin[r]) + (pos - lo) * (double(fin[r + 1]) - double(fin[r]))) : fin[r]);
      }
    }
    d.pair_corr = {0.25};
    const auto out = assemble_trial_stats(d, 1.0);
    ASSERT_EQ(out.size(), std::size_t(kQuantities));
    EXPECT_EQ(out[0].pair_corr, 0.25);
    for (int q = 0; q < 4; ++q) {
      const std::string where = "variant " + std::to_string(variant) + " quantity " + std::to_string(q);
      if (q) {
        EXPECT_EQ(out[q].pair_corr, 0.0) << where;
      }
      EXPECT_EQ(out[q].count, ref[q].count) << where;
      EXPECT_EQ(out[q].nan, ref[q].nan) << where;
      EXPECT_EQ(out[q].inf, ref[q].inf) << where;
      EXPECT_EQ(out[q].m.n, ref[q].m.n) << where;
      EXPECT_EQ(out[q].hist, ref[q].hist) << where;
      EXPECT_EQ(out[q].percentiles, ref[q].percentiles) << where;
      EXPECT_EQ(out[q].percentiles, numpy[q]) << where;
    }
    EXPECT_TRUE(out[4].hist.empty());
    EXPECT_TRUE(out[4].percentiles.empty());
    EXPECT_EQ(out[4].count, 0u);
    EXPECT_EQ(out[1].var_ratio, variance(out[1].m) / 1.0);  // Var[h_1] / Var[input]
  }
}

TEST(CpuStats, BracketedSelectionIsExactAndFallsBackWhereTheSampleMisleads) {
  // bracket() samples the array before add(), so that the percentiles come from the values inside
  // a few narrow brackets. It must give the full sort's order statistics wherever it is used, and
  // leave the work to select_ranks where a rank falls outside its bracket (the sample misleads),
  // where the brackets overflow, or where the array holds infinities.
  const HistRange r{-6.0f, 6.0f, 100, 1e-6f};  // symmetric-log bins: not keyed, so bracketed
  using Sel = StatsAccumulator::Selected;
  auto run = [&](const std::vector<float>& x, const char* name,
                 const std::vector<double>& ps = {0.0, 2.0, 50.0, 98.0, 100.0}) {
    std::vector<float> fin;
    for (float v : x)
      if (std::isfinite(v)) fin.push_back(v);
    Moments m;
    uint64_t counts[ChunkStats::kCounts];
    std::vector<uint64_t> hist(r.bins + 2);
    std::vector<float> ord(2 * ps.size());
    std::vector<float> scratch;
    StatsAccumulator acc(r, ps, x.size(), Counting{}, ChunkStats::Cell{&m, counts, hist.data(), ord.data()});
    acc.bracket(x.data(), scratch);
    for (std::size_t s = 0; s < x.size(); s += 3 * kStatsBlock)  // in pieces, as the forward op feeds it
      acc.add(x.data() + s, std::min(3 * kStatsBlock, x.size() - s));
    acc.finish(x.data(), scratch);
    const TrialStats st = cell_stats(m, counts, hist.data(), hist.size(), ord.data(), ps, x.size());
    for (std::size_t i = 0; i < ps.size(); ++i)
      EXPECT_FLOAT_EQ(st.percentiles[i], float(naive_percentile(fin, ps[i]))) << name << " p " << ps[i];
    return acc.selected();
  };
  std::mt19937 gen(23);
  std::normal_distribution<float> nd(0.0f, 1e-4f);
  std::vector<float> x(300001);
  for (float& v : x) v = nd(gen);
  EXPECT_EQ(run(x, "gaussian"), Sel::Bracketed);
  // Ties: a quarter exact zeros, the median among them (its bracket holds them all).
  for (std::size_t i = 0; i < x.size(); ++i)
    if (i % 4 == 0) x[i] = 0.0f;
  EXPECT_EQ(run(x, "zeros"), Sel::Bracketed);
  // More ties than the room the brackets may take (the whole array): select_ranks, exactly.
  std::vector<float> z = x;
  for (std::size_t i = 0; i < z.size(); ++i)
    if (i % 5 < 3) z[i] = 0.0f;
  EXPECT_EQ(run(z, "mostly zeros"), Sel::Fine);
  // Sorted data: the strata of the sample see it in order.
  std::sort(x.begin(), x.end());
  EXPECT_EQ(run(x, "sorted"), Sel::Bracketed);
  // A sample that misleads: the values at the sampled places (kBracketSamples strata, place
  // mix64(k) % size in stratum k) are all larger than the rest, so every bracket misses its rank.
  // Exact anyway, by select_ranks.
  std::vector<float> y(kBracketSamples * 64);
  for (float& v : y) v = nd(gen);
  for (std::size_t k = 0; k < kBracketSamples; ++k) y[k * 64 + mix64(k) % 64] = 1.0f + float(k) * 1e-6f;
  EXPECT_EQ(run(y, "misleading sample"), Sel::Fine);  // the 0th and 100th overflow their brackets
  EXPECT_EQ(run(y, "misleading sample, inner percentiles", {2.0, 50.0, 98.0}), Sel::Fine);  // ranks outside
  // Infinities: ranks count finite values only; select_ranks handles them.
  x[17] = INFINITY;
  x[18] = -INFINITY;
  x[19] = NAN;
  EXPECT_EQ(run(x, "infinities"), Sel::Fine);
  // NaN only (no infinities): still bracketed, NaN neither below nor inside.
  x[17] = x[18] = NAN;
  EXPECT_EQ(run(x, "nan"), Sel::Bracketed);
}

TEST(CpuStats, SelectSmallEqualsASort) {
  // select_small against a full sort: sizes around the insertion-sort cut and the pass limit,
  // ties, sorted, reversed, all equal, signed zeros and infinities, an organ pipe (median-of-three
  // pivots do poorly on it), and rank sets from one rank to every rank.
  std::mt19937 gen(31);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> tmp;
  for (std::size_t n : {1ul, 2ul, 3ul, 16ul, 17ul, 33ul, 100ul, 512ul, 4096ul, 5000ul, (1ul << 18) + 5})
    for (int shape = 0; shape < 7; ++shape) {
      std::vector<float> x(n);
      for (std::size_t i = 0; i < n; ++i) {
        switch (shape) {
          case 0: x[i] = nd(gen); break;
          case 1: x[i] = std::round(nd(gen) * 2.0f); break;  // ties
          case 2: x[i] = float(i); break;
          case 3: x[i] = float(n - i); break;
          case 4: x[i] = 3.0f; break;
          case 5: x[i] = i % 3 == 0 ? -0.0f : i % 3 == 1 ? 0.0f : (i % 2 ? INFINITY : -INFINITY); break;
          default: x[i] = float(std::min(i, n - 1 - i)); break;  // organ pipe
        }
      }
      std::vector<float> sorted = x;
      std::sort(sorted.begin(), sorted.end());
      for (int set = 0; set < 4; ++set) {
        std::vector<uint64_t> ranks;
        if (set == 0) ranks = {uint64_t(n / 2)};
        if (set == 1)
          for (double p : {2.0, 50.0, 98.0})
            for (int k = 0; k < 2; ++k) ranks.push_back(percentile_rank(p, n, k));
        if (set == 2) ranks = {0, uint64_t(n - 1)};
        if (set == 3)
          for (uint64_t r = 0; r < n; r += 1 + n / 50) ranks.push_back(r);
        std::sort(ranks.begin(), ranks.end());
        ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
        for (int path : cpu_draw_paths()) {
          std::vector<float> v = x, out(ranks.size(), -99.0f);
          select_small_path(path, v.data(), n, ranks.data(), ranks.size(), out.data(), tmp);
          for (std::size_t j = 0; j < ranks.size(); ++j)
            ASSERT_EQ(out[j], sorted[ranks[j]])
                << "path " << path << ", n " << n << " shape " << shape << " rank " << ranks[j];
          std::sort(v.begin(), v.end());  // a permutation of x
          ASSERT_EQ(v, sorted) << "path " << path << ", n " << n << " shape " << shape;
        }
      }
    }
}
