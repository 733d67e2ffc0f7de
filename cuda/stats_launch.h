// stats_launch.h — what one statistics launch measures and where the chunk's statistics live on the device.
#pragma once
#include <cstddef>
#include <cstdint>

#include "host/backend/chunk_stats.h"
#include "kernels/activations.h"
#include "kernels/counted.h"
#include "kernels/histogram.h"
#include "kernels/moments.h"

namespace isc::cuda {

// One block's share (a tile of kTileElems consecutive values of one trial) of one quantity.
struct TilePartial {
  Moments m;  // of the finite values, two-pass within the tile
  unsigned nan = 0, inf = 0;
  unsigned counted[kCounted] = {};  // kernels/counted.h
};

constexpr int kTileElems = 4096;
inline int layer_tiles(uint64_t per) { return static_cast<int>((per + kTileElems - 1) / kTileElems); }

// The device copies of the chunk's statistics arrays, laid out as ChunkStats (host/backend/chunk_stats.h)
// lays out its host arrays, o = (trial * layers + layer) * kQuantities + q, filled op by op until
// end_chunk() copies them back.
struct StatsSink {
  Moments* moments = nullptr;            // [o]
  unsigned long long* counts = nullptr;  // [o * ChunkStats::kCounts + ChunkStats::Count]
  unsigned long long* hist = nullptr;    // [(trial * layers + layer) * hist_stride + hist_offset[q] + slot]
  float* selected = nullptr;             // [o * 2 * n_percentiles + slot]: ChunkStats::order
  const double* percentiles = nullptr;   // device copy of StatsSpec::percentiles
  int n_percentiles = 0;
  int layers = 0;
  uint64_t hist_stride = 0;
  uint64_t hist_offset[kQuantities] = {};
};

// One measured quantity of a launch: the values as they stand after the launch's element operation
// (trials x per, re-read by the second moment pass and by the percentile selection).
struct StatsTarget {
  const float* x = nullptr;
  int q = 0;  // Quantity
  HistRange range{};
  unsigned counted = 0;  // mask of the kernels/counted.h predicates to count (counted_mask)
};

// One launch: nq (1 or 2) quantities of `trials` arrays of `per` values each, for layer `layer`.
struct StatsLaunch {
  int trials = 0;
  uint64_t per = 0;
  int layer = 0;
  int nq = 1;
  StatsTarget target[2];
  ActivationSpec act{};  // what the counted predicates test (StatsSpec::activation)
  StatsSink sink;
  TilePartial* partials = nullptr;       // scratch [(trial * tiles + tile) * nq + k], trials * tiles * nq
  unsigned long long* digits = nullptr;  // scratch [(trial * nq + k) * 256]: top-byte radix counts
};

}  // namespace isc::cuda
