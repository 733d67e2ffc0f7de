// radix_select.cuh — exact order statistics by radix selection (CUDA percentiles): order-preserving
// float keys and the per-byte narrowing steps, shared by the kernel and its host tests.
#pragma once
#include "det_math.h"
#include "percentile.h"

namespace isc {

// Maps a non-NaN float to an unsigned key with a < b  <=>  key(a) < key(b). -0 is mapped like +0
// (the two compare equal, so either may stand at a rank; the key keeps one of them).
ISC_HD uint32_t radix_key(float x) {
  uint32_t b = bits_of(x);
  b = b == 0x80000000u ? 0u : b;
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// The inverse of radix_key (gives +0 for the key of zero).
ISC_HD float radix_value(uint32_t k) { return float_of((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }

// Pass p (0..3) narrows byte p of the key, most significant first: its digit, and the bits above
// it that must match the prefix found by passes 0..p-1.
ISC_HD uint32_t radix_digit(uint32_t key, int pass) { return (key >> (24 - 8 * pass)) & 255u; }
ISC_HD uint32_t radix_prefix(uint32_t key, int pass) { return pass == 0 ? 0u : key >> (32 - 8 * pass); }

// Given the counts of the 256 digits among the values that share the prefix, and a rank among
// those values (rank < total), the digit holding that rank; *before = the count of smaller digits.
template <class Count>
ISC_HD uint32_t radix_find_digit(const Count* count, uint64_t rank, uint64_t* before) {
  uint64_t acc = 0;
  uint32_t d = 0;
  for (; d < 255u; ++d) {
    if (rank < acc + uint64_t(count[d])) break;
    acc += uint64_t(count[d]);
  }
  *before = acc;
  return d;
}

}  // namespace isc
