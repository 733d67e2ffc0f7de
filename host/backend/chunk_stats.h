// chunk_stats.h — the one statistics engine's data: the arrays every backend fills, op by op, for a
// chunk of trials (CPU in place, CUDA on the device then copied back), and their one assembly
// into per-trial statistics.
#pragma once
#include <cstdint>
#include <vector>

#include "host/backend/stats.h"
#include "host/backend/types.h"
#include "kernels/counted.h"
#include "kernels/moments.h"

namespace isc {

// Where each quantity's histogram lies in the block of one (trial, layer): quantity q's bins + 2
// slots start at offset[q]; blocks are `stride` slots apart. Every quantity has room.
struct HistLayout {
  uint64_t stride = 0;
  uint64_t offset[kQuantities] = {};
};
HistLayout hist_layout(const StatsSpec& s);

// Per (trial, layer, quantity) cell o = (trial * layers + layer) * kQuantities + q, and per
// (trial, layer) tl = trial * layers + layer. Moments, min, max and order statistics are over the
// finite values; NaN and +-Inf are counted apart (Inf also falls into the under/overflow slots).
struct ChunkStats {
  // NaN, Inf, then kernels/counted.h's predicates.
  enum Count : int { kNan = 0, kInf = 1, kFirstCounted = 2, kCounts = 2 + kCounted };

  int trials = 0;
  int layers = 0;
  StatsSpec spec;
  HistLayout layout;
  std::vector<int64_t> measured;  // [layer * kQuantities + q]: values per trial, -1: not measured
  std::vector<Moments> moments;   // [o]
  std::vector<uint64_t> counts;   // [o * kCounts + Count]
  std::vector<uint64_t> hist;     // [tl * layout.stride + layout.offset[q] + slot]
  // [o * 2P + 2i + k]: the order statistic at rank percentile_rank(p_i, n, k) (kernels/percentile.h)
  // of the n finite values; not read when there are none or all are equal (then every one is min).
  std::vector<float> order;
  std::vector<double> pair_corr;  // [tl]: the pre-activations' mean input-pair cosine (the c-map)

  // Sizes every array for `trials` x `layers` under `spec`, all zero, nothing measured.
  void reset(int trials, int layers, const StatsSpec& spec);
  std::size_t cell(int trial, int layer, int q) const {
    return (static_cast<std::size_t>(trial) * layers + layer) * kQuantities + static_cast<std::size_t>(q);
  }
  // Records that (layer, q) is measured over `per` values per trial (throws on a bad layer or q).
  void set_measured(int layer, int q, int64_t per);

  // Where one cell's results go.
  struct Cell {
    Moments* m;
    uint64_t* counts;  // kCounts of them
    uint64_t* hist;    // bins + 2 slots
    float* order;      // 2P of them
  };
  Cell at(int trial, int layer, int q);
};

// The per-trial statistics of one cell (count = values per trial).
TrialStats cell_stats(const Moments& m, const uint64_t* counts, const uint64_t* hist, std::size_t slots,
                      const float* order, const std::vector<double>& percentiles, uint64_t count);

// Per-trial statistics of a chunk, [(trial * layers + layer) * kQuantities + q]; cells that no op
// measured stay empty. Also derives the activations' var_ratio = Var[h_l] / Var[h_{l-1}], with
// `input_variance` as Var[h_0].
std::vector<TrialStats> assemble_trial_stats(const ChunkStats& c, double input_variance);

}  // namespace isc
