// histogram.h — fixed-range histogram binning: half-open bins [e_i, e_{i+1}), the last closed.
#pragma once
#include "hd.h"

namespace isc {

// Counts are stored as bins + 2 slots: [underflow, bin 0 .. bin n-1, overflow].
struct HistRange {
  float lo = -1.0f;
  float hi = 1.0f;
  int bins = 100;
};

// A range with its derived constants, computed once per launch.
struct Binner {
  float lo, hi, width, scale;
  int bins;
};

ISC_HD Binner make_binner(const HistRange& r) {
  const float span = sub_rn(r.hi, r.lo);
  return Binner{r.lo, r.hi, div_rn(span, static_cast<float>(r.bins)),
                div_rn(static_cast<float>(r.bins), span), r.bins};
}

// Edge i (0..bins) as both backends compute it; the CSV reports these very values.
ISC_HD float hist_edge(const Binner& b, int i) {
  if (i <= 0) return b.lo;
  if (i >= b.bins) return b.hi;
  return madd_rn(static_cast<float>(i), b.width, b.lo);
}

// Slot of a value: 0 for x < lo (and -inf), bins+1 for x > hi (and +inf), else 1 + bin index.
// NaN has no slot (returns -1): it is counted apart. The first guess comes from a product, then
// is corrected against the edges themselves so that bins are exactly [e_i, e_{i+1}).
ISC_HD int hist_slot(const Binner& b, float x) {
  if (x != x) return -1;
  if (x < b.lo) return 0;
  if (x > b.hi) return b.bins + 1;
  int i = static_cast<int>(mul_rn(sub_rn(x, b.lo), b.scale));
  if (i >= b.bins) i = b.bins - 1;
  if (i < 0) i = 0;
  if (i > 0 && x < hist_edge(b, i)) --i;
  else if (i + 1 < b.bins && x >= hist_edge(b, i + 1)) ++i;
  return 1 + i;
}

}  // namespace isc
