// cpu_stats.h — the CPU reference for every statistic of one array of values.
#pragma once
#include <cstddef>
#include <vector>

#include "../kernels/activations.h"
#include "stats.h"

namespace isc {

// Fills `out` with the moments, counts, histogram over `range` and the requested percentiles
// (linear interpolation between order statistics of the finite values, as numpy's default) of
// x[0..n). If `sat` is given, counts saturated values. `scratch` is reused between calls.
void compute_stats(const float* x, std::size_t n, const HistRange& range,
                   const std::vector<double>& percentiles, const ActivationSpec* sat,
                   TrialStats& out, std::vector<float>& scratch);

// The k-th and (k+1)-th smallest finite values (0-based) of x, found by histogram refinement:
// the slot of the quantity's histogram that holds rank k is split into finer bins (one pass
// each) until few values remain, which are then selected exactly. `hist` and `neg_inf` come from
// the first pass; `nfin` is the number of finite values.
struct RankPair {
  float v, next;
};
RankPair select_rank(const float* x, std::size_t n, const Binner& b, const std::vector<uint64_t>& hist,
                     uint64_t neg_inf, uint64_t nfin, uint64_t k, float min, float max,
                     std::vector<float>& scratch);

}  // namespace isc
