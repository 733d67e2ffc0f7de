// stats.cpp — naming, flattening and aggregation of per-trial statistics.
#include "host/backend/stats.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

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
  if (p == std::floor(p))
    std::snprintf(buf, sizeof buf, "p%02d", int(p));
  else
    std::snprintf(buf, sizeof buf, "p%g", p);
  return buf;
}

namespace {
std::vector<Statistic> make_statistics(const StatsSpec& spec) {
  auto always = [](const StatisticContext&) { return true; };
  const double nan = std::nan("");
  std::vector<Statistic> s{
      {"mean", always, [nan](const TrialStats& t) { return t.m.n > 0 ? t.m.mean : nan; }},
      {"std", always, [nan](const TrialStats& t) { return t.m.n > 0 ? t.std() : nan; }},
      {"mean_sq", always,
       [nan](const TrialStats& t) { return t.m.n > 0 ? t.m.m2 / t.m.n + t.m.mean * t.m.mean : nan; }},
      {"min", always, [nan](const TrialStats& t) { return t.m.n > 0 ? double(t.m.min) : nan; }},
      {"max", always, [nan](const TrialStats& t) { return t.m.n > 0 ? double(t.m.max) : nan; }},
  };
  for (std::size_t i = 0; i < spec.percentiles.size(); ++i)
    s.push_back({percentile_name(spec.percentiles[i]), always,
                 [i, nan](const TrialStats& t) { return i < t.percentiles.size() ? double(t.percentiles[i]) : nan; }});
  s.push_back({"nan", always, [](const TrialStats& t) { return double(t.nan); }});
  s.push_back({"inf", always, [](const TrialStats& t) { return double(t.inf); }});
  for (int k = 0; k < kCounted; ++k)
    s.push_back({counted_name(k), [k](const StatisticContext& c) { return ((c.counted >> k) & 1u) != 0; },
                 [k](const TrialStats& t) { return t.fraction(k); }});
  s.push_back({"var_ratio", [](const StatisticContext& c) { return c.q == Quantity::Activation; },
               [](const TrialStats& t) { return t.var_ratio; }});
  s.push_back({"pair_correlation", [](const StatisticContext& c) { return c.q == Quantity::Preactivation && c.pairs; },
               [](const TrialStats& t) { return t.pair_corr; }});
  return s;
}
}  // namespace

const std::vector<Statistic>& statistics(const StatsSpec& spec) {
  // The table depends on the percentiles alone; a sweep asks for it for every configuration (and
  // again for every row it writes), so each distinct table is made once. std::map nodes do not move.
  static std::mutex mu;
  static std::map<std::vector<double>, std::vector<Statistic>> tables;
  std::lock_guard<std::mutex> lock(mu);
  auto it = tables.find(spec.percentiles);
  if (it == tables.end()) it = tables.emplace(spec.percentiles, make_statistics(spec)).first;
  return it->second;
}

std::size_t statistic_count(const StatsSpec& spec, const StatisticContext& c) {
  std::size_t n = 0;
  for (const auto& s : statistics(spec)) n += s.applies(c) ? 1 : 0;
  return n;
}

std::vector<std::string> statistic_names(const StatsSpec& spec, const StatisticContext& c) {
  std::vector<std::string> n;
  for (const auto& s : statistics(spec))
    if (s.applies(c)) n.push_back(s.name);
  return n;
}

}  // namespace isc
