// cpu_stats.cpp — moments, counts, histograms and exact percentiles of one array (CPU reference).
#include "cpu_stats.h"

#include <algorithm>
#include <cmath>

namespace isc {

float select_rank(const float* x, std::size_t n, const Binner& b, const std::vector<uint64_t>& hist,
                  uint64_t neg_inf, uint64_t k, std::vector<float>& scratch) {
  // Ranks run over finite values; -inf sits below them in slot 0.
  uint64_t before = 0;
  uint64_t target = k + neg_inf;
  int slot = 0;
  for (; slot < static_cast<int>(hist.size()); ++slot) {
    if (target < before + hist[slot]) break;
    before += hist[slot];
  }
  scratch.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!std::isfinite(v)) continue;
    if (hist_slot(b, v) == slot) scratch.push_back(v);
  }
  const uint64_t skip_inf = slot == 0 ? neg_inf : 0;  // -inf were counted in slot 0
  const std::size_t r = static_cast<std::size_t>(target - before - skip_inf);
  std::nth_element(scratch.begin(), scratch.begin() + r, scratch.end());
  return scratch[r];
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
    const float v0 = select_rank(x, n, b, out.hist, neg_inf, r0, scratch);
    float v = v0;
    if (frac > 0.0 && r0 + 1 < nfin) {
      const float v1 = select_rank(x, n, b, out.hist, neg_inf, r0 + 1, scratch);
      v = static_cast<float>(double(v0) + frac * (double(v1) - double(v0)));
    }
    out.percentiles.push_back(v);
  }
}

}  // namespace isc
