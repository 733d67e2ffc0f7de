// det_math.h — log and sin/cos made only of IEEE basic operations (each rounded once), so the host and the
// device compute identical bits (libm's and CUDA's logf/sinf differ in the last ulp).
#pragma once
#include <cstring>

#include "hd.h"

namespace isc {

ISC_HD uint32_t bits_of(float f) {
#if ISC_DEVICE_CODE
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}
ISC_HD float float_of(uint32_t u) {
#if ISC_DEVICE_CODE
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// Natural log of a positive normal float, within 2 ulp: x = 2^e m, m in [sqrt(1/2), sqrt(2)),
// log m = 2 atanh(s), s = (m-1)/(m+1), odd series to s^13 (truncation < 1e-10).
ISC_HD float det_log(float x) {
  const uint32_t b = bits_of(x);
  int e = static_cast<int>((b >> 23) & 0xffu) - 127;
  float m = float_of((b & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  const bool big = m > 1.41421356f;                     // branch-free so that CPU loops vectorize
  m = big ? mul_rn(m, 0.5f) : m;
  e += big ? 1 : 0;
  const float s = div_rn(sub_rn(m, 1.0f), add_rn(m, 1.0f));
  const float s2 = mul_rn(s, s);
  float p = 1.0f / 13.0f;
  p = madd_rn(p, s2, 1.0f / 11.0f);
  p = madd_rn(p, s2, 1.0f / 9.0f);
  p = madd_rn(p, s2, 1.0f / 7.0f);
  p = madd_rn(p, s2, 1.0f / 5.0f);
  p = madd_rn(p, s2, 1.0f / 3.0f);
  p = mul_rn(p, s2);
  const float two_s = add_rn(s, s);
  const float log_m = madd_rn(two_s, p, two_s);
  const float fe = static_cast<float>(e);
  // ln 2 split so that e * ln2_hi is exact for |e| < 2^9.
  return madd_rn(fe, 0.693145751953125f, madd_rn(fe, 1.4286068203094172e-06f, log_m));
}

// sin and cos of 2*pi*v for v in [0, 1]: quadrant reduction by exact arithmetic, then Taylor
// polynomials on [-pi/4, pi/4] (truncation < 2e-9).
ISC_HD void det_sincos_2pi(float v, float* sin_out, float* cos_out) {
  const float t = mul_rn(v, 4.0f);                                        // exact
  const float k = static_cast<float>(static_cast<int>(add_rn(t, 0.5f)));  // nearest quadrant (t >= 0)
  const float r = sub_rn(t, k);                                           // exact, in [-1/2, 1/2]
  const float th = mul_rn(r, 1.57079632679f);                             // [-pi/4, pi/4]
  const float t2 = mul_rn(th, th);
  float sp = 2.7557319e-06f;              // 1/9!
  sp = madd_rn(sp, t2, -1.9841270e-04f);  // -1/7!
  sp = madd_rn(sp, t2, 8.3333333e-03f);   // 1/5!
  sp = madd_rn(sp, t2, -1.6666667e-01f);  // -1/3!
  const float sn = madd_rn(mul_rn(sp, t2), th, th);
  float cp = -2.7557319e-07f;             // -1/10!
  cp = madd_rn(cp, t2, 2.4801587e-05f);   // 1/8!
  cp = madd_rn(cp, t2, -1.3888889e-03f);  // -1/6!
  cp = madd_rn(cp, t2, 4.1666668e-02f);   // 1/4!
  cp = madd_rn(cp, t2, -0.5f);
  const float cs = madd_rn(cp, t2, 1.0f);
  const uint32_t q = static_cast<uint32_t>(static_cast<int>(k)) & 3u;
  // Rotate by q quarter turns, (sin, cos) -> (cos, -sin) per quarter, with bit operations only
  // (exact, and CPU loops vectorize them): swap when q is odd, negate by flipping sign bits.
  const uint32_t swap = 0u - (q & 1u);
  const uint32_t bs = bits_of(sn), bc = bits_of(cs);
  const uint32_t a = (bc & swap) | (bs & ~swap);
  const uint32_t b = (bs & swap) | (bc & ~swap);
  *sin_out = float_of(a ^ ((q & 2u) << 30));
  *cos_out = float_of(b ^ (((q + 1u) & 2u) << 30));
}

}  // namespace isc
