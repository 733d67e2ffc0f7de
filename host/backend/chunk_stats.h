// chunk_results.h — turns the CUDA backend's downloaded chunk statistics into TrialStats, with
// the same field semantics and percentile interpolation as the CPU's compute_stats.
#pragma once
#include <cstdint>
#include <vector>

#include "host/backend/backend.h"

namespace isc {

// Where each quantity's histogram lies in the block of one (trial, layer): quantity q's bins + 2
// slots start at offset[q]; blocks are `stride` slots apart. Every quantity has room.
struct HistLayout {
  uint64_t stride = 0;
  uint64_t offset[kQuantities] = {};
};
HistLayout hist_layout(const StatsSpec& s);

// Host copies of the device arrays of a chunk (cuda/stats_launch.h's StatsSink), indexed by
// o = (trial * layers + layer) * kQuantities + q.
struct ChunkArrays {
  std::vector<Moments> moments;              // [o]
  std::vector<unsigned long long> counts;    // [o * 3 + {nan, inf, saturated}]
  std::vector<unsigned long long> hist;      // [(trial * layers + layer) * stride + offset[q] + slot]
  std::vector<float> selected;               // [o * 2P + slot], see cuda/percentiles.h
  std::vector<double> pair_corr;             // [trial * layers + layer]: pre-activation pair_corr
};

// measured[layer * kQuantities + q]: values per trial that (layer, q) was measured over, or -1 when
// no op measured it (its TrialStats stay empty, as on the CPU).
std::vector<TrialStats> assemble_trial_stats(const Chunk& c, const std::vector<int64_t>& measured,
                                             const ChunkArrays& d);

}  // namespace isc
