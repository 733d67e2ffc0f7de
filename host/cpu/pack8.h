// pack8.h — left-packing of 8 float lanes on AVX2 (no compress instruction): lane indices per mask, for vpermps.
#pragma once
#include <cstdint>

#include "host/cpu/isa.h"

#if ISC_X86_PATHS
#include <immintrin.h>
#endif

namespace isc {

// idx[m] = the indices of the set bits of the 8-bit mask m, in increasing order (then zeros).
struct PackTable {
  alignas(32) int32_t idx[256][8];
};

inline const PackTable& pack_table() {
  static const PackTable t = [] {
    PackTable p{};
    for (int m = 0; m < 256; ++m)
      for (int b = 0, k = 0; b < 8; ++b)
        if (m >> b & 1) p.idx[m][k++] = b;
    return p;
  }();
  return t;
}

#if ISC_X86_PATHS
// The lanes of v whose bit is set in `mask` (8 bits), packed to the front in index order; the
// other lanes hold copies of lane 0 or of packed lanes (don't-care).
__attribute__((target("avx2"))) inline __m256 pack8(__m256 v, int mask, const PackTable& t) {
  return _mm256_permutevar8x32_ps(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(t.idx[mask])));
}
#endif

}  // namespace isc
