// chunk_results.cpp — TrialStats from the CUDA backend's chunk arrays (host side, plain C++ so
// that the interpolation is the CPU's expression compiled with the CPU's flags).
#include "host/backend/chunk_stats.h"

#include <cmath>

namespace isc {

HistLayout hist_layout(const StatsSpec& s) {
  HistLayout h;
  for (int q = 0; q < kQuantities; ++q) {
    h.offset[q] = h.stride;
    h.stride += uint64_t(s.range[q].bins) + 2;
  }
  return h;
}

std::vector<TrialStats> assemble_trial_stats(const Chunk& c, const std::vector<int64_t>& measured,
                                             const ChunkArrays& d) {
  const HistLayout hl = hist_layout(c.stats);
  const std::vector<double>& pct = c.stats.percentiles;
  const std::size_t P = pct.size();
  std::vector<TrialStats> out(std::size_t(c.trials) * c.layers * kQuantities);
  for (int t = 0; t < c.trials; ++t)
    for (int l = 0; l < c.layers; ++l) {
      const std::size_t tl = std::size_t(t) * c.layers + l;
      for (int q = 0; q < kQuantities; ++q) {
        const int64_t per = measured[std::size_t(l) * kQuantities + q];
        if (per < 0) continue;  // never measured: empty, as on the CPU
        const std::size_t o = tl * kQuantities + std::size_t(q);
        TrialStats& ts = out[o];
        ts.m = per > 0 ? d.moments[o] : Moments{};
        ts.count = uint64_t(per);
        ts.nan = d.counts[o * 3 + 0];
        ts.inf = d.counts[o * 3 + 1];
        ts.saturated = d.counts[o * 3 + 2];
        if (q == int(Quantity::Preactivation)) ts.pair_corr = d.pair_corr[tl];
        const unsigned long long* h = d.hist.data() + tl * hl.stride + hl.offset[q];
        ts.hist.assign(h, h + c.stats.range[q].bins + 2);
        if (P == 0) continue;
        const uint64_t nfin = static_cast<uint64_t>(ts.m.n);
        if (nfin == 0) {
          ts.percentiles.assign(P, std::nanf(""));
          continue;
        }
        // As compute_stats: with all finite values equal, every order statistic is min.
        const bool spread = ts.m.max > ts.m.min;
        for (std::size_t i = 0; i < P; ++i) {
          const double pos = pct[i] / 100.0 * double(nfin - 1);
          const uint64_t r0 = static_cast<uint64_t>(std::floor(pos));
          const double frac = pos - double(r0);
          const float v0 = spread ? d.selected[o * 2 * P + 2 * i] : ts.m.min;
          const float v1 = spread ? d.selected[o * 2 * P + 2 * i + 1] : ts.m.min;
          float v = v0;
          if (frac > 0.0 && r0 + 1 < nfin) v = static_cast<float>(double(v0) + frac * (double(v1) - double(v0)));
          ts.percentiles.push_back(v);
        }
      }
    }
  return out;
}

}  // namespace isc
