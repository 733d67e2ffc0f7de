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

// Exact order statistics of the finite values of x, for sorted 0-based ranks, in three steps:
// a fine histogram over [min, max] (one pass), a gather of the values whose fine bin holds a
// wanted rank (one pass), and a selection inside each small bucket.
std::vector<float> select_ranks(const float* x, std::size_t n, float min, float max,
                                const std::vector<uint64_t>& ranks, std::vector<float>& scratch);

}  // namespace isc
