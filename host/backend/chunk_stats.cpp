// chunk_stats.cpp — sizing the chunk statistics arrays and assembling per-trial statistics from
// them (percentile interpolation, var_ratio): the same code whichever backend filled the arrays.
#include "host/backend/chunk_stats.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/percentile.h"

namespace isc {

HistLayout hist_layout(const StatsSpec& s) {
  HistLayout h;
  for (int q = 0; q < kQuantities; ++q) {
    h.offset[q] = h.stride;
    h.stride += uint64_t(s.range[q].bins) + 2;
  }
  return h;
}

void ChunkStats::reset(int t, int l, const StatsSpec& s) {
  trials = t < 0 ? 0 : t;
  layers = l < 0 ? 0 : l;
  spec = s;
  layout = hist_layout(s);
  const std::size_t tl = std::size_t(trials) * std::size_t(layers), cells = tl * kQuantities;
  measured.assign(std::size_t(layers) * kQuantities, -1);
  moments.assign(cells, Moments{});
  counts.assign(cells * kCounts, 0);
  hist.assign(tl * layout.stride, 0);
  order.assign(cells * 2 * s.percentiles.size(), 0.0f);
  pair_corr.assign(tl, 0.0);
}

void ChunkStats::set_measured(int layer, int q, int64_t per) {
  if (layer < 0 || layer >= layers || q < 0 || q >= kQuantities)
    throw std::out_of_range("statistics of layer " + std::to_string(layer) + ", quantity " + std::to_string(q) +
                            ": outside the chunk's " + std::to_string(layers) + " layers");
  measured[std::size_t(layer) * kQuantities + std::size_t(q)] = per;
}

ChunkStats::Cell ChunkStats::at(int trial, int layer, int q) {
  const std::size_t o = cell(trial, layer, q), P = spec.percentiles.size();
  const std::size_t tl = std::size_t(trial) * std::size_t(layers) + std::size_t(layer);
  return Cell{&moments[o], &counts[o * kCounts], &hist[tl * layout.stride + layout.offset[q]],
              order.data() + o * 2 * P};
}

TrialStats cell_stats(const Moments& m, const uint64_t* counts, const uint64_t* hist, std::size_t slots,
                      const float* order, const std::vector<double>& percentiles, uint64_t count) {
  TrialStats ts;
  ts.m = count > 0 ? m : Moments{};
  ts.count = count;
  ts.nan = counts[ChunkStats::kNan];
  ts.inf = counts[ChunkStats::kInf];
  for (int k = 0; k < kCounted; ++k) ts.counted[k] = counts[ChunkStats::kFirstCounted + k];
  ts.hist.assign(hist, hist + slots);
  const uint64_t nfin = static_cast<uint64_t>(ts.m.n);
  if (percentiles.empty()) return ts;
  if (nfin == 0) {
    ts.percentiles.assign(percentiles.size(), std::nanf(""));
    return ts;
  }
  const bool spread = ts.m.max > ts.m.min;  // all finite values equal: every order statistic is min
  for (std::size_t i = 0; i < percentiles.size(); ++i) {
    const float v0 = spread ? order[2 * i] : ts.m.min, v1 = spread ? order[2 * i + 1] : ts.m.min;
    ts.percentiles.push_back(percentile_value(percentiles[i], nfin, v0, v1));
  }
  return ts;
}

std::vector<TrialStats> assemble_trial_stats(const ChunkStats& c, double input_variance) {
  const std::size_t P = c.spec.percentiles.size();
  std::vector<TrialStats> out(std::size_t(c.trials) * std::size_t(c.layers) * kQuantities);
  for (int t = 0; t < c.trials; ++t)
    for (int l = 0; l < c.layers; ++l) {
      const std::size_t tl = std::size_t(t) * std::size_t(c.layers) + std::size_t(l);
      for (int q = 0; q < kQuantities; ++q) {
        const int64_t per = c.measured[std::size_t(l) * kQuantities + std::size_t(q)];
        if (per < 0) continue;  // never measured: empty
        const std::size_t o = c.cell(t, l, q);
        TrialStats& ts = out[o];
        ts = cell_stats(c.moments[o], &c.counts[o * ChunkStats::kCounts],
                        &c.hist[tl * c.layout.stride + c.layout.offset[q]], std::size_t(c.spec.range[q].bins) + 2,
                        c.order.data() + o * 2 * P, c.spec.percentiles, uint64_t(per));
        if (q == int(Quantity::Preactivation)) ts.pair_corr = c.pair_corr[tl];
      }
      // var_ratio: Var[h_l] / Var[h_{l-1}], with the input's exact variance for l = 1.
      TrialStats& h = out[c.cell(t, l, int(Quantity::Activation))];
      const double prev = l == 0 ? input_variance : variance(out[c.cell(t, l - 1, int(Quantity::Activation))].m);
      h.var_ratio = prev > 0 ? variance(h.m) / prev : std::nan("");
    }
  return out;
}

}  // namespace isc
