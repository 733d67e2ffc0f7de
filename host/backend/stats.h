// stats.h — per-trial statistics of one quantity in one layer, and their across-trial aggregate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/backend/types.h"
#include "kernels/moments.h"

namespace isc {

// Statistics of one (trial, layer, quantity). Moments, min, max and percentiles are over finite
// values; NaN and +-Inf are counted apart (Inf also falls into the under/overflow slots).
struct TrialStats {
  Moments m;
  uint64_t count = 0;      // all values, finite or not
  uint64_t nan = 0;
  uint64_t inf = 0;
  uint64_t saturated = 0;  // activation only; see kernels/activations.h
  double var_ratio = 0.0;  // activation only: Var[h_l] / Var[h_{l-1}] (h_0: the input)
  double pair_corr = 0.0;  // pre-activation only: mean over input pairs (2k, 2k+1) of the cosine
                           // similarity of their pre-activation vectors (the measured c-map)
  std::vector<float> percentiles;
  std::vector<uint64_t> hist;  // bins + 2 slots: under, bins..., over

  double std() const;
  double saturation() const { return count ? double(saturated) / double(count) : 0.0; }
};

// The named per-trial statistics written to stats.csv/trials.csv, in order; `extra` adds
// saturation (activation of a saturating function) and var_ratio (activation).
struct ExtraStats {
  bool saturation = false;
  bool var_ratio = false;
  bool pair_correlation = false;
};
std::vector<std::string> statistic_names(const StatsSpec& spec, ExtraStats extra);
std::vector<double> statistic_values(const TrialStats& t, ExtraStats extra);
std::string percentile_name(double p);

// Across-trial aggregate of one (layer, quantity): Welford over trials of each statistic in
// trial order, and the pooled histogram.
struct Aggregate {
  std::vector<Moments> per_statistic;
  std::vector<uint64_t> hist;
  uint64_t trials = 0;
  void add(const std::vector<double>& stat_values, const std::vector<uint64_t>& h);
};

}  // namespace isc
