// moments.h — mergeable moments (count, mean, M2 in double; min, max) with Chan's merge.
#pragma once
#include "hd.h"

namespace isc {

struct Moments {
  double n = 0.0;
  double mean = 0.0;
  double m2 = 0.0;
  float min = INFINITY;
  float max = -INFINITY;
};

// Chan, Golub & LeVeque (1979): combine two partial results exactly as if computed together.
ISC_HD void merge(Moments& a, const Moments& b) {
  if (b.n == 0.0) return;
  if (a.n == 0.0) {
    a = b;
    return;
  }
  const double n = a.n + b.n;
  const double d = b.mean - a.mean;
  a.mean += d * (b.n / n);
  a.m2 += b.m2 + d * d * (a.n * b.n / n);
  a.n = n;
  a.min = b.min < a.min ? b.min : a.min;
  a.max = b.max > a.max ? b.max : a.max;
}

// Two-pass moments of a small block of finite values (caller filters NaN/Inf).
ISC_HD Moments block_moments(const float* x, int n) {
  Moments m;
  if (n == 0) return m;
  double s = 0.0;
  float lo = x[0], hi = x[0];
  for (int i = 0; i < n; ++i) {
    s += x[i];
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  const double mean = s / n;
  double m2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    m2 += d * d;
  }
  m.n = n;
  m.mean = mean;
  m.m2 = m2;
  m.min = lo;
  m.max = hi;
  return m;
}

ISC_HD double variance(const Moments& m) { return m.n > 1.0 ? m.m2 / (m.n - 1.0) : 0.0; }

}  // namespace isc
