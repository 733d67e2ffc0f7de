// cpu_stats.cpp — moments, counts, histograms and exact percentiles of one array (CPU reference).
#include "cpu_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace isc {

namespace {

// Closed value range [a, b] holding the ranks [before, before + count) of the finite values.
struct Range {
  float a, b;
  uint64_t before, count;
};

constexpr int kRefineBins = 2048;
constexpr uint64_t kGatherMax = 4096;

// The closed range of slot s of binner bn (half-open bins become [e_i, prev(e_i+1)]).
Range slot_range(const Binner& bn, int s, float min, float max) {
  if (s == 0) return {min, std::nextafter(bn.lo, -INFINITY), 0, 0};
  if (s == bn.bins + 1) return {std::nextafter(bn.hi, INFINITY), max, 0, 0};
  const int i = s - 1;
  const float hi = i + 1 == bn.bins ? bn.hi : std::nextafter(hist_edge(bn, i + 1), -INFINITY);
  return {std::max(hist_edge(bn, i), min), std::min(hi, max), 0, 0};
}

// Finds the slot holding rank k given slot counts; fills before/count.
int find_slot(const std::vector<uint64_t>& counts, uint64_t k, uint64_t* before) {
  uint64_t acc = 0;
  for (std::size_t s = 0; s < counts.size(); ++s) {
    if (k < acc + counts[s]) {
      *before = acc;
      return static_cast<int>(s);
    }
    acc += counts[s];
  }
  *before = acc;
  return static_cast<int>(counts.size()) - 1;
}

}  // namespace

RankPair select_rank(const float* x, std::size_t n, const Binner& b, const std::vector<uint64_t>& hist,
                     uint64_t neg_inf, uint64_t nfin, uint64_t k, float min, float max,
                     std::vector<float>& scratch) {
  // Level 0: the quantity's own histogram; slot 0 also counted -inf, slot bins+1 +inf.
  std::vector<uint64_t> finite_counts(hist);
  finite_counts.front() -= neg_inf;
  finite_counts.back() -= (static_cast<uint64_t>(std::accumulate(hist.begin(), hist.end(), uint64_t(0))) - neg_inf - nfin);
  uint64_t before = 0;
  const int s0 = find_slot(finite_counts, k, &before);
  Range r = slot_range(b, s0, min, max);
  r.before = before;
  r.count = finite_counts[static_cast<std::size_t>(s0)];
  std::vector<uint64_t> sub(kRefineBins + 2);
  while (r.count > kGatherMax && r.a < r.b) {
    const Binner sb = make_binner(HistRange{r.a, r.b, kRefineBins});
    if (!std::isfinite(sb.scale) || !(sb.width > 0.0f)) break;  // range too narrow to split
    std::fill(sub.begin(), sub.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      const float v = x[i];
      if (v >= r.a && v <= r.b) ++sub[static_cast<std::size_t>(hist_slot(sb, v))];
    }
    uint64_t sb_before = 0;
    const int s = find_slot(sub, k - r.before, &sb_before);
    Range nr = slot_range(sb, s, r.a, r.b);
    nr.before = r.before + sb_before;
    nr.count = sub[static_cast<std::size_t>(s)];
    if (nr.count == r.count && nr.a == r.a && nr.b == r.b) break;  // cannot split further
    r = nr;
  }
  scratch.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v >= r.a && v <= r.b) scratch.push_back(v);
  }
  const std::size_t at = static_cast<std::size_t>(k - r.before);
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(at), scratch.end());
  RankPair out{scratch[at], scratch[at]};
  if (k + 1 >= nfin) return out;
  if (at + 1 < scratch.size()) {
    out.next = *std::min_element(scratch.begin() + static_cast<std::ptrdiff_t>(at) + 1, scratch.end());
  } else {
    // Rank k+1 is the smallest finite value above the range.
    float nx = INFINITY;
    for (std::size_t i = 0; i < n; ++i)
      if (x[i] > r.b && x[i] < nx) nx = x[i];
    out.next = nx;
  }
  return out;
}

void compute_stats(const float* x, std::size_t n, const HistRange& range,
                   const std::vector<double>& percentiles, const ActivationSpec* sat,
                   TrialStats& out, std::vector<float>& scratch) {
  const Binner b = make_binner(range);
  out = TrialStats{};
  out.count = n;
  out.hist.assign(static_cast<std::size_t>(range.bins) + 2, 0);
  uint64_t neg_inf = 0;
  constexpr std::size_t kBlock = 1024;
  float finite[kBlock];
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t len = std::min(kBlock, n - start);
    const float* p = x + start;
    int nf = 0;
    uint64_t sat_count = 0;
    for (std::size_t i = 0; i < len; ++i) {
      const float v = p[i];
      const int s = hist_slot(b, v);
      if (s < 0) {
        ++out.nan;
        continue;
      }
      ++out.hist[static_cast<std::size_t>(s)];
      if (std::isinf(v)) {
        ++out.inf;
        if (v < 0) ++neg_inf;
        continue;
      }
      finite[nf++] = v;
      if (sat && saturated(*sat, v)) ++sat_count;
    }
    out.saturated += sat_count;
    merge(out.m, block_moments(finite, nf));
  }
  const uint64_t nfin = static_cast<uint64_t>(out.m.n);
  for (double p : percentiles) {
    if (nfin == 0) {
      out.percentiles.push_back(std::nanf(""));
      continue;
    }
    const double pos = p / 100.0 * double(nfin - 1);
    const uint64_t r0 = static_cast<uint64_t>(std::floor(pos));
    const double frac = pos - double(r0);
    const RankPair rp = select_rank(x, n, b, out.hist, neg_inf, nfin, r0, out.m.min, out.m.max, scratch);
    float v = rp.v;
    if (frac > 0.0 && r0 + 1 < nfin) v = static_cast<float>(double(rp.v) + frac * (double(rp.next) - double(rp.v)));
    out.percentiles.push_back(v);
  }
}

}  // namespace isc
