// percentile.h — percentiles from order statistics (both backends and the host assembly): which
// ranks a percentile needs, and the linear interpolation between them (numpy's default).
#pragma once
#include "hd.h"

namespace isc {

// Rank slot k of percentile p among n finite values (n >= 1): slot 0 is r0 = floor(p / 100 * (n - 1))
// and slot 1 is r0 + 1 (r0 when that is n).
ISC_HD uint64_t percentile_rank(double p, uint64_t n, int slot) {
  const uint64_t r0 = static_cast<uint64_t>(floor(p / 100.0 * double(n - 1)));
  return slot == 1 && r0 + 1 < n ? r0 + 1 : r0;
}

// Percentile p of n finite values from the order statistics v0, v1 at its two rank slots:
// v0 + frac (v1 - v0) in double, rounded to float once, frac = p / 100 (n - 1) - r0.
ISC_HD float percentile_value(double p, uint64_t n, float v0, float v1) {
  const double pos = p / 100.0 * double(n - 1);
  const uint64_t r0 = static_cast<uint64_t>(floor(pos));
  const double frac = pos - double(r0);
  return frac > 0.0 && r0 + 1 < n ? static_cast<float>(double(v0) + frac * (double(v1) - double(v0))) : v0;
}

}  // namespace isc
