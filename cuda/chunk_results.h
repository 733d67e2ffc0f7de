// chunk_results.h — turns the CUDA backend's downloaded chunk statistics into TrialStats, with
// the same field semantics and percentile interpolation as the CPU's compute_stats.
#pragma once
#include <vector>

#include "../host/backend.h"

namespace isc::cuda {

// Host copies of the device arrays of a chunk, indexed by o = (trial * layers + layer) * 2 + q
// (q = 0 pre-activation, 1 activation: Quantity's first two values).
struct ChunkArrays {
  std::vector<Moments> moments;              // [o]
  std::vector<unsigned long long> counts;    // [o * 3 + {nan, inf, saturated}]
  std::vector<unsigned long long> hist;      // [(trial * layers + layer) * (slots0 + slots1) + ...]
  std::vector<float> selected;               // [o * 2P + slot], see cuda/percentiles.h
  std::vector<double> pair_corr;             // [trial * layers + layer]: pre-activation pair_corr
};

// widths[l] is layer l's width (values per trial = samples * width).
std::vector<TrialStats> assemble_trial_stats(const Chunk& c, const std::vector<int>& widths, const ChunkArrays& d);

}  // namespace isc::cuda
