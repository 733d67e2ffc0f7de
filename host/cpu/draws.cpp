// draws.cpp — Philox4x32-10 in batches of 16 blocks and the weight/input draws, on three instruction-set paths.
// The AVX-512, AVX2 and generic (GCC vector) paths are bit-identical to the scalar forms (kernels/rng.h, init.h).
#include "host/cpu/draws.h"

#include <cstring>

#include "kernels/rng.h"

#if ISC_X86_PATHS
#include <immintrin.h>
#endif

namespace isc {
namespace {

constexpr int kLanes = 16;

// Generic path: Philox4x32-10 on 16 consecutive blocks with GCC vector types, 16 x 32-bit lanes;
// the 32x32->64 products are formed on even and odd lanes as 8 x 64-bit.
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef uint64_t u64x8 __attribute__((vector_size(64)));

ISC_HD void mulhilo16(uint32_t m, u32x16 a, u32x16* lo, u32x16* hi) {
  const u64x8 a64 = (u64x8)a;  // vector cast: a bit reinterpretation
  const u64x8 mask = u64x8{} + 0xffffffffull;
  const u64x8 pe = (a64 & mask) * uint64_t(m);  // even lanes
  const u64x8 po = (a64 >> 32) * uint64_t(m);   // odd lanes
  const u64x8 l = (pe & mask) | (po << 32);
  const u64x8 h = (pe >> 32) | (po & ~mask);
  *lo = (u32x16)l;
  *hi = (u32x16)h;
}

ISC_HD void philox16_generic(uint64_t seed, uint64_t subsequence, uint64_t block0, uint32_t out[4][kLanes]) {
  // Counters block0 + i as (low, high) words, built with vector operations (no lane stores).
  const u32x16 iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  u32x16 x = iota + static_cast<uint32_t>(block0);
  u32x16 y = (u32x16{} + static_cast<uint32_t>(block0 >> 32)) - (u32x16)(x < iota);  // carry: -(-1)
  u32x16 z = u32x16{} + static_cast<uint32_t>(subsequence);
  u32x16 w = u32x16{} + static_cast<uint32_t>(subsequence >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    u32x16 lo0, hi0, lo1, hi1;
    mulhilo16(kPhiloxM0, x, &lo0, &hi0);
    mulhilo16(kPhiloxM1, z, &lo1, &hi1);
    x = hi1 ^ y ^ k0;
    y = lo1;
    z = hi0 ^ w ^ k1;
    w = lo0;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  std::memcpy(out[0], &x, sizeof x);
  std::memcpy(out[1], &y, sizeof y);
  std::memcpy(out[2], &z, sizeof z);
  std::memcpy(out[3], &w, sizeof w);
}

#if ISC_X86_PATHS
// GCC 12 reports its own _mm512_set1_* / _mm512_undefined_* helpers as uninitialized (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// x86 paths: each 64-bit lane holds one block's 32-bit word in its low half (the high half is
// don't-care), so one vpmuludq forms a whole 32x32->64 product and its halves need no shuffles:
// lo stays in place, hi is one shift away. Group 0 holds the even blocks, group 1 the odd ones, so
// that merging their low halves (odd shifted up) lays the 16 words out in block order.
// G groups of 8 blocks: group g holds blocks block0 + 16 (g / 2) + g % 2 + 2i, i = 0..7 (pairs of
// groups cover 16 consecutive blocks, even then odd). More groups in flight hide the multiply latency.
template <int G>
__attribute__((target("avx512f"), always_inline)) inline void philox_rounds_avx512(uint64_t seed, uint64_t subsequence,
                                                                                   uint64_t block0, __m512i x[G],
                                                                                   __m512i y[G], __m512i z[G],
                                                                                   __m512i w[G]) {
  const __m512i m0 = _mm512_set1_epi64(kPhiloxM0), m1 = _mm512_set1_epi64(kPhiloxM1);
  const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
  for (int g = 0; g < G; ++g) {
    const uint64_t first = block0 + static_cast<uint64_t>(g / 2 * 16 + g % 2);
    const __m512i c = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first)), even);
    x[g] = c;
    y[g] = _mm512_srli_epi64(c, 32);
    z[g] = _mm512_set1_epi64(static_cast<long long>(subsequence & 0xffffffffu));
    w[g] = _mm512_set1_epi64(static_cast<long long>(subsequence >> 32));
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    const __m512i kk0 = _mm512_set1_epi32(static_cast<int>(k0)), kk1 = _mm512_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < G; ++g) {
      const __m512i p0 = _mm512_mul_epu32(x[g], m0), p1 = _mm512_mul_epu32(z[g], m1);
      x[g] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), y[g], kk0, 0x96);  // a ^ b ^ c
      y[g] = p1;
      z[g] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), w[g], kk1, 0x96);
      w[g] = p0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

// Low halves of a's lanes in the even 32-bit slots, of b's in the odd ones.
__attribute__((target("avx512f"), always_inline)) inline __m512i pair_low_halves(__m512i a, __m512i b) {
  return _mm512_mask_blend_epi32(0xAAAA, a, _mm512_slli_epi64(b, 32));
}

__attribute__((target("avx512f"))) void philox16_avx512(uint64_t seed, uint64_t subsequence, uint64_t block0,
                                                        uint32_t out[4][kLanes]) {
  __m512i x[2], y[2], z[2], w[2];
  philox_rounds_avx512<2>(seed, subsequence, block0, x, y, z, w);
  const __m512i* word[4] = {x, y, z, w};
  for (int k = 0; k < 4; ++k) _mm512_storeu_si512(out[k], pair_low_halves(word[k][0], word[k][1]));
}

// Uniform draws for elements [0, 64 * chunks) straight from the registers: the words are put in
// element order (block-major, word-minor) by 64-bit permutes, then converted as
// uniform_symmetric(uniform_from_bits(.)) with the same IEEE operations as the scalar form.
__attribute__((target("avx512f"))) void fill_uniform_avx512(uint64_t seed, uint64_t subsequence, float scale,
                                                            float* out, std::size_t chunks) {
  const __m512i lo_pairs = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i hi_pairs = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  const __m512 two_m32 = _mm512_set1_ps(2.3283064365386963e-10f), two_m33 = _mm512_set1_ps(1.1641532182693481e-10f);
  const __m512 two = _mm512_set1_ps(2.0f), one = _mm512_set1_ps(1.0f), sc = _mm512_set1_ps(scale);
  constexpr int P = 3;  // chunks of 16 blocks in flight (3 measured fastest on Zen 4)
  for (std::size_t c0 = 0; c0 < chunks; c0 += P) {
    __m512i x[2 * P], y[2 * P], z[2 * P], w[2 * P];
    philox_rounds_avx512<2 * P>(seed, subsequence, 16 * c0, x, y, z, w);
    for (int q = 0; q < P && c0 + q < chunks; ++q) {
      const std::size_t c = c0 + q;
      // (x|y) and (z|w) 64-bit pairs of the even blocks (group 2q) and odd blocks (group 2q+1).
      const __m512i xy_e = pair_low_halves(x[2 * q], y[2 * q]), xy_o = pair_low_halves(x[2 * q + 1], y[2 * q + 1]);
      const __m512i zw_e = pair_low_halves(z[2 * q], w[2 * q]), zw_o = pair_low_halves(z[2 * q + 1], w[2 * q + 1]);
      const __m512i xy_a = _mm512_permutex2var_epi64(xy_e, lo_pairs, xy_o);  // blocks 0..7
      const __m512i xy_b = _mm512_permutex2var_epi64(xy_e, hi_pairs, xy_o);  // blocks 8..15
      const __m512i zw_a = _mm512_permutex2var_epi64(zw_e, lo_pairs, zw_o);
      const __m512i zw_b = _mm512_permutex2var_epi64(zw_e, hi_pairs, zw_o);
      const __m512i v[4] = {
          _mm512_permutex2var_epi64(xy_a, lo_pairs, zw_a), _mm512_permutex2var_epi64(xy_a, hi_pairs, zw_a),
          _mm512_permutex2var_epi64(xy_b, lo_pairs, zw_b), _mm512_permutex2var_epi64(xy_b, hi_pairs, zw_b)};
      for (int k = 0; k < 4; ++k) {
        const __m512 u = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepu32_ps(v[k]), two_m32), two_m33);
        _mm512_storeu_ps(out + 64 * c + 16 * k, _mm512_mul_ps(sc, _mm512_sub_ps(_mm512_mul_ps(two, u), one)));
      }
    }
  }
}

// G groups of 4 blocks: group g holds blocks block0 + 8 (g / 2) + g % 2 + 2i, i = 0..3 (pairs of
// groups cover 8 consecutive blocks, even then odd), each block's word in the low half of a
// 64-bit lane, as on the AVX-512 path.
template <int G>
__attribute__((target("avx2"), always_inline)) inline void philox_rounds_avx2(uint64_t seed, uint64_t subsequence,
                                                                              uint64_t block0, __m256i x[G],
                                                                              __m256i y[G], __m256i z[G],
                                                                              __m256i w[G]) {
  const __m256i m0 = _mm256_set1_epi64x(kPhiloxM0), m1 = _mm256_set1_epi64x(kPhiloxM1);
  const __m256i even = _mm256_set_epi64x(6, 4, 2, 0);
  for (int g = 0; g < G; ++g) {
    const uint64_t first = block0 + static_cast<uint64_t>(g / 2 * 8 + g % 2);
    const __m256i c = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(first)), even);
    x[g] = c;
    y[g] = _mm256_srli_epi64(c, 32);
    z[g] = _mm256_set1_epi64x(static_cast<long long>(subsequence & 0xffffffffu));
    w[g] = _mm256_set1_epi64x(static_cast<long long>(subsequence >> 32));
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    const __m256i kk0 = _mm256_set1_epi32(static_cast<int>(k0)), kk1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < G; ++g) {
      const __m256i p0 = _mm256_mul_epu32(x[g], m0), p1 = _mm256_mul_epu32(z[g], m1);
      x[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), y[g]), kk0);
      y[g] = p1;
      z[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), w[g]), kk1);
      w[g] = p0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

// Low halves of a's 64-bit lanes in the even 32-bit slots, of b's in the odd ones.
__attribute__((target("avx2"), always_inline)) inline __m256i pair_low_halves_avx2(__m256i a, __m256i b) {
  return _mm256_blend_epi32(a, _mm256_slli_epi64(b, 32), 0xAA);
}

__attribute__((target("avx2"))) void philox16_avx2(uint64_t seed, uint64_t subsequence, uint64_t block0,
                                                   uint32_t out[4][kLanes]) {
  // Blocks 0..7, then 8..15, each as two groups of four (even, odd): more groups at once would
  // not fit AVX2's 16 registers (four groups spilled: 1.5 against 1.07 ns per value).
  for (int h = 0; h < 2; ++h) {
    __m256i x[2], y[2], z[2], w[2];
    philox_rounds_avx2<2>(seed, subsequence, block0 + 8 * uint64_t(h), x, y, z, w);
    const __m256i* word[4] = {x, y, z, w};
    for (int k = 0; k < 4; ++k)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[k] + 8 * h), pair_low_halves_avx2(word[k][0], word[k][1]));
  }
}

// Uniform draws for elements [0, 32 * chunks) straight from the registers, as fill_uniform_avx512:
// per 8 blocks, (x|y) and (z|w) pairs of the even and odd blocks put in element order by 64-bit
// unpacks and 128-bit permutes, then uniform_symmetric(uniform_from_bits(.)) with the same IEEE
// operations as the scalar form. AVX2 has no unsigned conversion: float(b) is float(b >> 16) *
// 65536 (exact) + float(b & 0xffff) (exact), whose one rounding is that of float(b).
__attribute__((target("avx2"))) void fill_uniform_avx2(uint64_t seed, uint64_t subsequence, float scale, float* out,
                                                       std::size_t chunks) {
  const __m256 two_m32 = _mm256_set1_ps(2.3283064365386963e-10f), two_m33 = _mm256_set1_ps(1.1641532182693481e-10f);
  const __m256 two = _mm256_set1_ps(2.0f), one = _mm256_set1_ps(1.0f), sc = _mm256_set1_ps(scale);
  const __m256 two16 = _mm256_set1_ps(65536.0f);
  const __m256i low16 = _mm256_set1_epi32(0xffff);
  // One chunk of 8 blocks at a time: two or three at once spilled AVX2's 16 registers (slower).
  for (std::size_t c = 0; c < chunks; ++c) {
    __m256i x[2], y[2], z[2], w[2];
    philox_rounds_avx2<2>(seed, subsequence, 8 * c, x, y, z, w);
    const __m256i xy_e = pair_low_halves_avx2(x[0], y[0]), zw_e = pair_low_halves_avx2(z[0], w[0]);
    const __m256i xy_o = pair_low_halves_avx2(x[1], y[1]), zw_o = pair_low_halves_avx2(z[1], w[1]);
    // a = blocks 0, 4 (even), b = 2, 6; c = 1, 5 (odd), d = 3, 7: each block's (x|y), (z|w).
    const __m256i a = _mm256_unpacklo_epi64(xy_e, zw_e), b = _mm256_unpackhi_epi64(xy_e, zw_e);
    const __m256i cc = _mm256_unpacklo_epi64(xy_o, zw_o), d = _mm256_unpackhi_epi64(xy_o, zw_o);
    const __m256i v[4] = {_mm256_permute2x128_si256(a, cc, 0x20), _mm256_permute2x128_si256(b, d, 0x20),
                          _mm256_permute2x128_si256(a, cc, 0x31), _mm256_permute2x128_si256(b, d, 0x31)};
    for (int k = 0; k < 4; ++k) {
      const __m256 hi = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v[k], 16)), two16);
      const __m256 f = _mm256_add_ps(hi, _mm256_cvtepi32_ps(_mm256_and_si256(v[k], low16)));
      const __m256 u = _mm256_add_ps(_mm256_mul_ps(f, two_m32), two_m33);
      _mm256_storeu_ps(out + 32 * c + 8 * k, _mm256_mul_ps(sc, _mm256_sub_ps(_mm256_mul_ps(two, u), one)));
    }
  }
}
#pragma GCC diagnostic pop
#endif

template <int Path>
ISC_HD void philox16(uint64_t seed, uint64_t subsequence, uint64_t block0, uint32_t out[4][kLanes]) {
#if ISC_X86_PATHS
  if constexpr (Path == kPathAvx512) return philox16_avx512(seed, subsequence, block0, out);
  if constexpr (Path == kPathAvx2) return philox16_avx2(seed, subsequence, block0, out);
#endif
  philox16_generic(seed, subsequence, block0, out);
}

template <int Path>
ISC_HD void fill_draws(const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out, std::size_t n) {
  if (d.kind == DrawKind::Constant) {
    for (std::size_t i = 0; i < n; ++i) out[i] = d.scale;
    return;
  }
  const float scale = d.scale;
  std::size_t done = 0;
#if ISC_X86_PATHS
  if (Path == kPathAvx512 && d.kind == DrawKind::Uniform) {
    fill_uniform_avx512(seed, subsequence, scale, out, n / (4 * kLanes));
    done = n / (4 * kLanes) * (4 * kLanes);
  }
  if (Path == kPathAvx2 && d.kind == DrawKind::Uniform) {
    fill_uniform_avx2(seed, subsequence, scale, out, n / 32);
    done = n / 32 * 32;
  }
#endif
  uint32_t bits[4][kLanes];
  float u[4][kLanes], v[4 * kLanes];
  for (std::size_t e0 = done; e0 < n; e0 += 4 * kLanes) {
    philox16<Path>(seed, subsequence, e0 / 4, bits);
    for (int l = 0; l < 4; ++l)
      for (int i = 0; i < kLanes; ++i) u[l][i] = uniform_from_bits(bits[l][i]);
    if (d.kind == DrawKind::Uniform) {
      for (int i = 0; i < kLanes; ++i)
        for (int l = 0; l < 4; ++l) v[4 * i + l] = uniform_symmetric(u[l][i], scale);
    } else {
      float z[4][kLanes];
      for (int i = 0; i < kLanes; ++i) {
        box_muller(u[0][i], u[1][i], &z[0][i], &z[1][i]);
        box_muller(u[2][i], u[3][i], &z[2][i], &z[3][i]);
      }
      for (int i = 0; i < kLanes; ++i)
        for (int l = 0; l < 4; ++l) v[4 * i + l] = mul_rn(z[l][i], scale);
    }
    if (n - e0 >= std::size_t(4 * kLanes)) {
      for (int i = 0; i < 4 * kLanes; ++i) out[e0 + i] = v[i];  // vector stores, no memcpy call
    } else {
      for (std::size_t i = 0; i < n - e0; ++i) out[e0 + i] = v[i];
    }
  }
}

#if ISC_X86_PATHS
__attribute__((target("arch=x86-64-v4"))) void fill_draws_v4(const LayerDraw& d, uint64_t seed, uint64_t sub,
                                                             float* out, std::size_t n) {
  fill_draws<kPathAvx512>(d, seed, sub, out, n);
}
__attribute__((target("arch=x86-64-v3"))) void fill_draws_v3(const LayerDraw& d, uint64_t seed, uint64_t sub,
                                                             float* out, std::size_t n) {
  fill_draws<kPathAvx2>(d, seed, sub, out, n);
}
#endif
void fill_draws_generic(const LayerDraw& d, uint64_t seed, uint64_t sub, float* out, std::size_t n) {
  fill_draws<kPathGeneric>(d, seed, sub, out, n);
}

}  // namespace

void cpu_philox16(int path, uint64_t seed, uint64_t subsequence, uint64_t block0, uint32_t out[4][16]) {
#if ISC_X86_PATHS
  if (path == kPathAvx512) return philox16_avx512(seed, subsequence, block0, out);
  if (path == kPathAvx2) return philox16_avx2(seed, subsequence, block0, out);
#endif
  (void)path;
  philox16_generic(seed, subsequence, block0, out);
}

void cpu_fill_draws_path(int path, const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out, std::size_t n) {
#if ISC_X86_PATHS
  if (path == kPathAvx512) return fill_draws_v4(d, seed, subsequence, out, n);
  if (path == kPathAvx2) return fill_draws_v3(d, seed, subsequence, out, n);
#endif
  (void)path;
  fill_draws_generic(d, seed, subsequence, out, n);
}

void cpu_fill_draws(const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out, std::size_t n) {
  static const int path = best_path();
  cpu_fill_draws_path(path, d, seed, subsequence, out, n);
}

}  // namespace isc
