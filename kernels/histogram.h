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

// Slot of a finite value, without branches (CPU loops vectorize it): 0 below lo, bins+1 above
// hi, else 1 + bin index. The first guess comes from a product and is then corrected against
// the edges themselves, so bins are exactly [e_i, e_{i+1}) with e_i = hist_edge(b, i).
ISC_HD int hist_slot_finite(const Binner& b, float x) {
  float f = mul_rn(sub_rn(x, b.lo), b.scale);
  const float top = static_cast<float>(b.bins - 1);
  f = f < 0.0f ? 0.0f : f;
  f = f > top ? top : f;
  int i = static_cast<int>(f);
  // Integer arithmetic on comparison results: no branches, so CPU loops vectorize.
  const float e0 = madd_rn(static_cast<float>(i), b.width, b.lo);
  const float e1 = madd_rn(static_cast<float>(i + 1), b.width, b.lo);
  const int dec = int(x < e0) & int(i > 0);
  const int inc = int(x >= e1) & int(i + 1 < b.bins) & (1 - dec);
  i += inc - dec;
  const int below = int(x < b.lo), above = int(x > b.hi);
  return (1 + i) * (1 - below - above) + above * (b.bins + 1);
}

// Slot of any value: as above, -inf in slot 0, +inf in slot bins+1, NaN has none (-1).
ISC_HD int hist_slot(const Binner& b, float x) {
  if (x != x) return -1;
  if (x < b.lo) return 0;
  if (x > b.hi) return b.bins + 1;
  return hist_slot_finite(b, x);
}

}  // namespace isc
