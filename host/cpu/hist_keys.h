// hist_keys.h — histogram slots and keys of float rows, and the fine bins of percentile selection.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/histogram.h"

namespace isc {

// slots[i] = hist_slot_finite(b, x[i]) for finite x (the caller checks finiteness).
void cpu_hist_slots(const float* x, std::size_t n, const Binner& b, int32_t* slots);

// keys[i] = slot * sub + j for finite x[i]: the histogram slot of x[i] (as cpu_hist_slots) refined
// into `sub` parts per bin (sub a power of two) by a monotone map (under/overflow slots stay whole), so that keys are
// non-decreasing in x: the histogram pass also counts what exact selection needs.
void cpu_hist_keys(const float* x, std::size_t n, const Binner& b, int sub, int32_t* keys);

// The key of one value (as cpu_hist_keys).
int32_t cpu_hist_key(const Binner& b, int sub, float x);

// idx[i] = bin of x[i] among `bins` equal bins of [lo, lo + bins/scale] (clamped), or `bins`
// for values outside [lo, hi] and NaN: the internal binning of percentile selection.
void cpu_fine_bins(const float* x, std::size_t n, float lo, float hi, float scale, int bins, int32_t* idx);

}  // namespace isc
