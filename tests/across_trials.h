// across_trials.h — test helper: across-trial mean and standard error of a per-trial statistic.
#pragma once
#include <cmath>
#include <functional>
#include <vector>

#include "host/app/runner.h"

namespace isc::test_util {

struct MeanSe {
  double mean = 0, se = 0;
};

// The per-trial second moment E[x^2] of a quantity.
inline double second_moment(const TrialStats& t) { return t.m.m2 / t.m.n + t.m.mean * t.m.mean; }

// Per layer: mean over trials of f(trial stats of quantity q) and its standard error
// (sample std / sqrt(trials)).
inline std::vector<MeanSe> across_trials(const ConfigResult& r, int q,
                                         const std::function<double(const TrialStats&)>& f = second_moment) {
  std::vector<MeanSe> out;
  const int64_t T = r.point->config.trials;
  for (int l = 0; l < r.layers; ++l) {
    double s = 0, s2 = 0;
    for (int64_t t = 0; t < T; ++t) {
      const double v = f(r.at(t, l, q));
      s += v;
      s2 += v * v;
    }
    const double mean = s / T, var = T > 1 ? (s2 - T * mean * mean) / (T - 1) : 0.0;
    out.push_back({mean, std::sqrt(std::max(var, 0.0) / T)});
  }
  return out;
}

}  // namespace isc::test_util
