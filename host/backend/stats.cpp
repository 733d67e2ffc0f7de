// stats.cpp — naming, flattening and aggregation of per-trial statistics.
#include "host/backend/stats.h"

#include <cmath>
#include <cstdio>

namespace isc {

const char* to_string(Quantity q) {
  switch (q) {
    case Quantity::Preactivation: return "preactivation";
    case Quantity::Activation: return "activation";
    case Quantity::BackpropGradient: return "backprop_gradient";
    case Quantity::WeightGradient: return "weight_gradient";
    case Quantity::JacobianSingularValue: return "jacobian_singular_value";
  }
  return "?";
}

bool quantity_from_string(const std::string& s, Quantity* q) {
  for (int i = 0; i < kQuantities; ++i)
    if (s == to_string(Quantity(i))) {
      *q = Quantity(i);
      return true;
    }
  return false;
}

double TrialStats::std() const { return std::sqrt(variance(m)); }

std::string percentile_name(double p) {
  char buf[32];
  if (p == std::floor(p)) std::snprintf(buf, sizeof buf, "p%02d", int(p));
  else std::snprintf(buf, sizeof buf, "p%g", p);
  return buf;
}

std::vector<std::string> statistic_names(const StatsSpec& spec, ExtraStats extra) {
  std::vector<std::string> n{"mean", "std", "mean_sq", "min", "max"};
  for (double p : spec.percentiles) n.push_back(percentile_name(p));
  n.push_back("nan");
  n.push_back("inf");
  if (extra.saturation) n.push_back("saturation");
  if (extra.var_ratio) n.push_back("var_ratio");
  if (extra.pair_correlation) n.push_back("pair_correlation");
  return n;
}

std::vector<double> statistic_values(const TrialStats& t, ExtraStats extra) {
  const double var_pop = t.m.n > 0 ? t.m.m2 / t.m.n : 0.0;
  const bool any = t.m.n > 0;
  const double nan = std::nan("");
  std::vector<double> v{any ? t.m.mean : nan, any ? t.std() : nan, any ? var_pop + t.m.mean * t.m.mean : nan,
                        any ? double(t.m.min) : nan, any ? double(t.m.max) : nan};
  for (float p : t.percentiles) v.push_back(p);
  v.push_back(double(t.nan));
  v.push_back(double(t.inf));
  if (extra.saturation) v.push_back(t.saturation());
  if (extra.var_ratio) v.push_back(t.var_ratio);
  if (extra.pair_correlation) v.push_back(t.pair_corr);
  return v;
}

void Aggregate::add(const std::vector<double>& stat_values, const std::vector<uint64_t>& h) {
  if (per_statistic.empty()) per_statistic.resize(stat_values.size());
  if (hist.empty()) hist.assign(h.size(), 0);
  for (size_t i = 0; i < stat_values.size(); ++i) {
    if (!std::isfinite(stat_values[i])) continue;  // e.g. a trial whose values were all NaN
    Moments one;
    one.n = 1;
    one.mean = stat_values[i];
    one.min = one.max = float(stat_values[i]);
    merge(per_statistic[i], one);
  }
  for (size_t i = 0; i < h.size(); ++i) hist[i] += h[i];
  ++trials;
}

}  // namespace isc
