// stats.h — per-trial statistics of one quantity in one layer, and their across-trial aggregate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/histogram.h"
#include "../kernels/moments.h"

namespace isc {

// Quantities measured per layer l (1-based in outputs): the pre-activation s_l, the activation
// h_l = f(s_l), the back-propagated gradient dC/ds_l, the weight gradient dC/dW_l, and the
// singular values of the layer Jacobian J_l = dh_l/dh_{l-1} = diag(f'(s_l)) W_l.
enum class Quantity : int {
  Preactivation = 0, Activation, BackpropGradient, WeightGradient, JacobianSingularValue
};
constexpr int kQuantities = 5;
const char* to_string(Quantity q);
bool quantity_from_string(const std::string& s, Quantity* q);

// What the statistics ops are asked to compute.
struct StatsSpec {
  HistRange range[kQuantities];     // per quantity
  std::vector<double> percentiles;  // in [0, 100]
  bool enabled[kQuantities] = {true, true, false, false, false};
  int jacobian_samples = 0;         // samples per trial whose Jacobians are decomposed
};

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
