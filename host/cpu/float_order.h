// float_order.h — the ordered-integer image of a float (for bisection and search over the floats in order).
#pragma once
#include <cstdint>
#include <cstring>

namespace isc {

// a < b as floats (-0 just below +0; NaN outside the finite and infinite values) iff
// float_order(a) < float_order(b), unsigned.
inline uint32_t float_order(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline float float_of_order(uint32_t o) {
  const uint32_t u = (o & 0x80000000u) ? (o & 0x7fffffffu) : ~o;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace isc
