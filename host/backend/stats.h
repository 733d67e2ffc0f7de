// stats.h — per-trial statistics of one quantity in one layer, and their across-trial aggregate.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/backend/types.h"
#include "kernels/counted.h"
#include "kernels/moments.h"

namespace isc {

// Statistics of one (trial, layer, quantity). Moments, min, max and percentiles are over finite
// values; NaN and +-Inf are counted apart (Inf also falls into the under/overflow slots).
struct TrialStats {
  Moments m;
  uint64_t count = 0;  // all values, finite or not
  uint64_t nan = 0;
  uint64_t inf = 0;
  uint64_t counted[kCounted] = {};  // values passing each kernels/counted.h predicate that applies
  double var_ratio = 0.0;           // activation only: Var[h_l] / Var[h_{l-1}] (h_0: the input)
  double pair_corr = 0.0;           // pre-activation only: mean over input pairs (2k, 2k+1) of the cosine
                                    // similarity of their pre-activation vectors (the measured c-map)
  std::vector<float> percentiles;
  std::vector<uint64_t> hist;  // bins + 2 slots: under, bins..., over

  double std() const;
  // The fraction of all values that pass counted predicate k.
  double fraction(int k) const { return count ? double(counted[k]) / double(count) : 0.0; }
};

// Which statistics apply to one quantity of one configuration.
struct StatisticContext {
  Quantity q = Quantity::Preactivation;
  unsigned counted = 0;  // counted_mask(q, activation): the counted predicates that apply
  bool pairs = false;    // the inputs come in pairs (samples >= 2)
};

// One per-trial statistic as stats.csv and trials.csv report it: its name, whether it applies to a
// quantity of a configuration (if not, stats.csv has no row for it and trials.csv leaves its
// column empty), and its value read off a TrialStats.
struct Statistic {
  std::string name;
  std::function<bool(const StatisticContext&)> applies;
  std::function<double(const TrialStats&)> value;
};
// The one table of per-trial statistics, in column order: mean std mean_sq min max, the
// percentiles, nan inf, the counted fractions (kernels/counted.h: saturation), then var_ratio
// pair_correlation. A statistic computed from what
// TrialStats holds is one entry here. Made once per distinct set of percentiles and kept for the
// process (thread-safe).
const std::vector<Statistic>& statistics(const StatsSpec& spec);
// The names of the statistics that apply in `c`, in column order.
std::vector<std::string> statistic_names(const StatsSpec& spec, const StatisticContext& c);
std::size_t statistic_count(const StatsSpec& spec, const StatisticContext& c);  // statistic_names(...).size()
std::string percentile_name(double p);

}  // namespace isc
