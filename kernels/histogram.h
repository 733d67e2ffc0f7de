// histogram.h — fixed-range histogram binning: half-open bins [e_i, e_{i+1}), the last closed.
#pragma once
#include "det_math.h"

namespace isc {

// Counts are stored as bins + 2 slots: [underflow, bin 0 .. bin n-1, overflow].
// With linthresh > 0 the bins are equal in the symmetric-log coordinate
// u = sign(x) log10(1 + |x| / linthresh) and lo, hi are given in u; otherwise in x itself.
struct HistRange {
  float lo = -1.0f;
  float hi = 1.0f;
  int bins = 100;
  float linthresh = 0.0f;
};

// A range with its derived constants, computed once per launch.
struct Binner {
  float lo, hi, width, scale;
  int bins;
  float inv_linthresh;  // 0: linear bins
};

ISC_HD Binner make_binner(const HistRange& r) {
  const float span = sub_rn(r.hi, r.lo);
  return Binner{r.lo,
                r.hi,
                div_rn(span, static_cast<float>(r.bins)),
                div_rn(static_cast<float>(r.bins), span),
                r.bins,
                r.linthresh > 0.0f ? div_rn(1.0f, r.linthresh) : 0.0f};
}

// The symmetric-log coordinate of a finite x: sign(x) log10(1 + |x| / linthresh), with the
// deterministic log so that both backends bin alike.
ISC_HD float symlog(float x, float inv_linthresh) {
  const float m = det_log(madd_rn(fabsf(x), inv_linthresh, 1.0f));
  const float u = mul_rn(m, 0.43429448190325176f);  // 1 / ln 10
  return x < 0.0f ? -u : u;
}

// The coordinate a finite value is binned by.
ISC_HD float hist_coord(const Binner& b, float x) { return b.inv_linthresh > 0.0f ? symlog(x, b.inv_linthresh) : x; }

// Edge i (0..bins) as both backends compute it; the CSV reports these very values.
ISC_HD float hist_edge(const Binner& b, int i) {
  if (i <= 0) return b.lo;
  if (i >= b.bins) return b.hi;
  return madd_rn(static_cast<float>(i), b.width, b.lo);
}

// Slot of a finite coordinate u (see hist_coord), without branches (CPU loops vectorize it): 0 below lo, bins+1 above
// hi, else 1 + bin index. The first guess comes from a product and is then corrected against
// the edges themselves, so bins are exactly [e_i, e_{i+1}) with e_i = hist_edge(b, i).
// hist_bin_clamped is its bin index with x clamped into [lo, hi] (0 below lo, bins-1 above hi).
ISC_HD int hist_bin_clamped(const Binner& b, float x) {
  float f = mul_rn(sub_rn(x, b.lo), b.scale);
  const float top = static_cast<float>(b.bins - 1);
  f = f < 0.0f ? 0.0f : f;
  f = f > top ? top : f;
  const int i = static_cast<int>(f);
  // Integer arithmetic on comparison results: no branches, so CPU loops vectorize.
  const float e0 = madd_rn(static_cast<float>(i), b.width, b.lo);
  const float e1 = madd_rn(static_cast<float>(i + 1), b.width, b.lo);
  const int dec = int(x < e0) & int(i > 0);
  const int inc = int(x >= e1) & int(i + 1 < b.bins) & (1 - dec);
  return i + inc - dec;
}

ISC_HD int hist_slot_finite(const Binner& b, float x) {
  const int i = hist_bin_clamped(b, x);
  const int below = int(x < b.lo), above = int(x > b.hi);
  return (1 + i) * (1 - below - above) + above * (b.bins + 1);
}

// Slot of any value (not coordinate): -inf in slot 0, +inf in slot bins+1, NaN has none (-1).
ISC_HD int hist_slot(const Binner& b, float x) {
  if (x != x) return -1;
  if (x == -INFINITY) return 0;
  if (x == INFINITY) return b.bins + 1;
  return hist_slot_finite(b, hist_coord(b, x));
}

}  // namespace isc
