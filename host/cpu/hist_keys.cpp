// hist_keys.cpp — histogram slots and keys of float rows, and the fine bins of percentile selection.
// Built for several x86-64 levels (ISC_CLONES); bit-identical to the scalar forms (kernels/histogram.h).
#include "host/cpu/hist_keys.h"

#include "host/cpu/isa.h"

namespace isc {

ISC_CLONES void cpu_hist_slots(const float* x, std::size_t n, const Binner& b, int32_t* slots) {
  const float lo = b.lo, hi = b.hi, width = b.width, scale = b.scale, inv_lt = b.inv_linthresh;
  const int bins = b.bins;
  if (inv_lt > 0.0f) {
    for (std::size_t i = 0; i < n; ++i)
      slots[i] = hist_slot_finite(Binner{lo, hi, width, scale, bins, 0.0f}, symlog(x[i], inv_lt));
  } else {
    for (std::size_t i = 0; i < n; ++i) slots[i] = hist_slot_finite(Binner{lo, hi, width, scale, bins, 0.0f}, x[i]);
  }
}

namespace {
// Key of a finite coordinate u: slot * sub + j (sub = 2^shift), with the slot as hist_slot_finite
// gives it and j the part of the bin u falls in. One product guesses both: q = (u - lo) * scale *
// sub, whose q >> shift is exactly hist_bin_clamped's first guess (the factor sub is a power of
// two), then the same correction against the bin's own edges; a value moved down a bin takes that
// bin's last part, one moved up its first, so keys never decrease in u. Under- and overflow are
// single parts.
ISC_HD int32_t slot_key(const Binner& b, float u, int shift, float sub_scale) {
  float g = mul_rn(sub_rn(u, b.lo), sub_scale);
  const int sub = 1 << shift;
  const float top = static_cast<float>(b.bins * sub - 1);
  g = g < 0.0f ? 0.0f : g;
  g = g > top ? top : g;
  const int q = static_cast<int>(g);
  const int i = q >> shift;
  const float e0 = madd_rn(static_cast<float>(i), b.width, b.lo);
  const float e1 = madd_rn(static_cast<float>(i + 1), b.width, b.lo);
  const int dec = int(u < e0) & int(i > 0);
  const int inc = int(u >= e1) & int(i + 1 < b.bins) & (1 - dec);
  // Integer arithmetic on comparison results (no selects), so that CPU loops vectorize.
  const int part = (q & (sub - 1)) * (1 - dec - inc) + dec * (sub - 1);
  const int key = ((i + 1 + inc - dec) << shift) + part;
  const int below = int(u < b.lo), above = int(u > b.hi);
  return key * (1 - below - above) + above * ((b.bins + 1) << shift);
}
}  // namespace

ISC_CLONES void cpu_hist_keys(const float* x, std::size_t n, const Binner& b, int sub, int32_t* keys) {
  const Binner lin{b.lo, b.hi, b.width, b.scale, b.bins, 0.0f};
  const int shift = __builtin_ctz(static_cast<unsigned>(sub));
  const float sub_scale = mul_rn(b.scale, static_cast<float>(sub)), inv_lt = b.inv_linthresh;
  if (inv_lt > 0.0f) {
    for (std::size_t i = 0; i < n; ++i) keys[i] = slot_key(lin, symlog(x[i], inv_lt), shift, sub_scale);
  } else {
    for (std::size_t i = 0; i < n; ++i) keys[i] = slot_key(lin, x[i], shift, sub_scale);
  }
}

int32_t cpu_hist_key(const Binner& b, int sub, float x) {
  int32_t k;
  cpu_hist_keys(&x, 1, b, sub, &k);
  return k;
}

ISC_CLONES void cpu_fine_bins(const float* x, std::size_t n, float lo, float hi, float scale, int bins, int32_t* idx) {
  const float top = static_cast<float>(bins - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    float f = (v - lo) * scale;
    f = f > 0.0f ? f : 0.0f;  // also NaN to 0: converting NaN to int is undefined
    f = f > top ? top : f;
    const int inside = int(v >= lo) & int(v <= hi);  // false for NaN
    const int k = static_cast<int>(f);
    idx[i] = inside * k + (1 - inside) * bins;
  }
}

}  // namespace isc
