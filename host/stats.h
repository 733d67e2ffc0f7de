// stats.h — per-trial statistics of one quantity in one layer, and their across-trial aggregate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/histogram.h"
#include "../kernels/moments.h"

namespace isc {

// Quantities measured per layer (forward for now; backward ones join later).
enum class Quantity : int { Preactivation = 0, Activation = 1 };
constexpr int kForwardQuantities = 2;
const char* to_string(Quantity q);

// What the statistics ops are asked to compute.
struct StatsSpec {
  HistRange range[kForwardQuantities];  // per quantity
  std::vector<double> percentiles;      // in [0, 100]
};

// Statistics of one (trial, layer, quantity). Moments, min, max and percentiles are over finite
// values; NaN and +-Inf are counted apart (Inf also falls into the under/overflow slots).
struct TrialStats {
  Moments m;
  uint64_t count = 0;      // all values, finite or not
  uint64_t nan = 0;
  uint64_t inf = 0;
  uint64_t saturated = 0;  // activation only; see kernels/activations.h
  std::vector<float> percentiles;
  std::vector<uint64_t> hist;  // bins + 2 slots: under, bins..., over

  double mean() const { return m.mean; }
  double std() const;
  double saturation() const { return count ? double(saturated) / double(count) : 0.0; }
};

// The named per-trial statistics written to stats.csv/trials.csv, in order.
std::vector<std::string> statistic_names(const StatsSpec& spec, bool with_saturation);
std::vector<double> statistic_values(const TrialStats& t, bool with_saturation);
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
