// cpu_kernels.cpp — vectorizable CPU loops over the shared math (kernels/): Philox in batches of
// 16 blocks (AVX-512, AVX2 and generic paths), bias + activation, histogram slots. Results are
// bit-identical to the scalar forms.
#include "host/cpu/cpu_kernels.h"

#include <algorithm>
#include <cstring>

#include "kernels/histogram.h"
#include "host/cpu/cpu_scans_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ISC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define ISC_X86_PATHS 1
#include <immintrin.h>
#else
#define ISC_CLONES
#define ISC_X86_PATHS 0
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
    const __m512i v[4] = {_mm512_permutex2var_epi64(xy_a, lo_pairs, zw_a),
                          _mm512_permutex2var_epi64(xy_a, hi_pairs, zw_a),
                          _mm512_permutex2var_epi64(xy_b, lo_pairs, zw_b),
                          _mm512_permutex2var_epi64(xy_b, hi_pairs, zw_b)};
    for (int k = 0; k < 4; ++k) {
      const __m512 u = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepu32_ps(v[k]), two_m32), two_m33);
      _mm512_storeu_ps(out + 64 * c + 16 * k, _mm512_mul_ps(sc, _mm512_sub_ps(_mm512_mul_ps(two, u), one)));
    }
    }
  }
}

__attribute__((target("avx2"))) void philox16_avx2(uint64_t seed, uint64_t subsequence,
                                                                          uint64_t block0, uint32_t out[4][kLanes]) {
  // Four groups of four blocks: (even, odd) of blocks 0..7, then of blocks 8..15.
  const __m256i m0 = _mm256_set1_epi64x(kPhiloxM0), m1 = _mm256_set1_epi64x(kPhiloxM1);
  const __m256i even = _mm256_set_epi64x(6, 4, 2, 0);
  __m256i x[4], y[4], z[4], w[4];
  for (int g = 0; g < 4; ++g) {
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
    for (int g = 0; g < 4; ++g) {
      const __m256i p0 = _mm256_mul_epu32(x[g], m0), p1 = _mm256_mul_epu32(z[g], m1);
      x[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), y[g]), kk0);
      y[g] = p1;
      z[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), w[g]), kk1);
      w[g] = p0;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  const __m256i* word[4] = {x, y, z, w};
  for (int k = 0; k < 4; ++k)
    for (int h = 0; h < 2; ++h) {
      const __m256i v = _mm256_blend_epi32(word[k][2 * h], _mm256_slli_epi64(word[k][2 * h + 1], 32), 0xAA);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[k] + 8 * h), v);
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

int best_path() {
#if ISC_X86_PATHS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return kPathAvx512;
  if (__builtin_cpu_supports("x86-64-v3")) return kPathAvx2;
#endif
  return kPathGeneric;
}

}  // namespace

std::vector<int> cpu_draw_paths() {
  std::vector<int> p{kPathGeneric};
  const int best = best_path();
  if (best >= kPathAvx2) p.push_back(kPathAvx2);
  if (best >= kPathAvx512) p.push_back(kPathAvx512);
  return p;
}

void cpu_philox16(int path, uint64_t seed, uint64_t subsequence, uint64_t block0, uint32_t out[4][16]) {
#if ISC_X86_PATHS
  if (path == kPathAvx512) return philox16_avx512(seed, subsequence, block0, out);
  if (path == kPathAvx2) return philox16_avx2(seed, subsequence, block0, out);
#endif
  (void)path;
  philox16_generic(seed, subsequence, block0, out);
}

void cpu_fill_draws_path(int path, const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out,
                         std::size_t n) {
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

// One straight loop per activation (with_activation), so that each vectorizes; the math is
// kernels/activations.h's Act<K>.
#define ISC_INLINE_LAMBDA __attribute__((always_inline))

ISC_CLONES void cpu_bias_activate(float* s, float* h, std::size_t n, float bias, const ActivationSpec& a) {
  const ActivationSpec act = a;
  with_activation(a.kind, [&](auto k) ISC_INLINE_LAMBDA {
    using A = Act<decltype(k)::value>;
    for (std::size_t i = 0; i < n; ++i) h[i] = A::f(act, s[i] = add_rn(s[i], bias));
  });
}

ISC_CLONES void cpu_mul_activation_derivative(float* g, const float* s, std::size_t n, const ActivationSpec& a) {
  if (a.kind == Activation::Linear) return;  // g * 1 (grad_times_derivative)
  const ActivationSpec act = a;
  with_activation(a.kind, [&](auto k) ISC_INLINE_LAMBDA {
    using A = Act<decltype(k)::value>;
    for (std::size_t i = 0; i < n; ++i) g[i] = mul_rn(g[i], A::df(act, s[i]));
  });
}

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


ISC_CLONES void cpu_fine_bins(const float* x, std::size_t n, float lo, float hi, float scale, int bins,
                              int32_t* idx) {
  const float top = static_cast<float>(bins - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    float f = (v - lo) * scale;
    f = f < 0.0f ? 0.0f : f;
    f = f > top ? top : f;
    const int inside = int(v >= lo) & int(v <= hi);  // false for NaN
    const int k = static_cast<int>(f);
    idx[i] = inside * k + (1 - inside) * bins;
  }
}

static ISC_CLONES Moments block_moments_generic(const float* x, std::size_t n) {
  // 32 interleaved double sums (four vectors of 8, so that four add chains overlap), in one loop
  // with the min and max; then the squared deviations from the block mean the same way. Lanes are
  // combined in a fixed order: the same bits on every instruction-set level.
  constexpr int L = 32;
  typedef float f32x16 __attribute__((vector_size(64)));
  typedef float f32x8 __attribute__((vector_size(32)));
  typedef double f64x8 __attribute__((vector_size(64)));
  Moments m;
  if (n == 0) return m;
  const std::size_t main = n / L * L;
  f32x16 vlo = f32x16{} + x[0], vhi = vlo;
  f64x8 acc[4] = {};
  for (std::size_t i = 0; i < main; i += L) {
    f32x16 v0, v1;
    std::memcpy(&v0, x + i, sizeof v0);
    std::memcpy(&v1, x + i + 16, sizeof v1);
    vlo = v0 < vlo ? v0 : vlo;
    vhi = v0 > vhi ? v0 : vhi;
    vlo = v1 < vlo ? v1 : vlo;
    vhi = v1 > vhi ? v1 : vhi;
    for (int q = 0; q < 4; ++q) {
      f32x8 a;
      std::memcpy(&a, x + i + 8 * q, sizeof a);
      acc[q] += __builtin_convertvector(a, f64x8);
    }
  }
  float lo[16], hi[16];
  std::memcpy(lo, &vlo, sizeof lo);
  std::memcpy(hi, &vhi, sizeof hi);
  double lanes[L];
  std::memcpy(lanes, acc, sizeof lanes);
  double sum = 0.0;
  float mn = x[0], mx = x[0];
  for (int j = 0; j < 16; ++j) {
    mn = lo[j] < mn ? lo[j] : mn;
    mx = hi[j] > mx ? hi[j] : mx;
  }
  for (int j = 0; j < L; ++j) sum += lanes[j];
  for (std::size_t i = main; i < n; ++i) {
    sum += x[i];
    mn = x[i] < mn ? x[i] : mn;
    mx = x[i] > mx ? x[i] : mx;
  }
  const double mean = sum / double(n);
  const f64x8 vmean = f64x8{} + mean;
  f64x8 sq[4] = {};
  for (std::size_t i = 0; i < main; i += L)
    for (int q = 0; q < 4; ++q) {
      f32x8 a;
      std::memcpy(&a, x + i + 8 * q, sizeof a);
      const f64x8 d = __builtin_convertvector(a, f64x8) - vmean;
      sq[q] += d * d;
    }
  std::memcpy(lanes, sq, sizeof lanes);
  double m2 = 0.0;
  for (int j = 0; j < L; ++j) m2 += lanes[j];
  for (std::size_t i = main; i < n; ++i) m2 += (double(x[i]) - mean) * (double(x[i]) - mean);
  m.n = double(n);
  m.mean = mean;
  m.m2 = m2;
  m.min = mn;
  m.max = mx;
  return m;
}


ISC_CLONES void cpu_dot3(const float* a, const float* b, std::size_t n, double* ab, double* aa, double* bb) {
  typedef float f32x8 __attribute__((vector_size(32)));
  typedef double f64x8 __attribute__((vector_size(64)));
  constexpr std::size_t L = 8;
  const std::size_t main = n / L * L;
  f64x8 vab = {}, vaa = {}, vbb = {};
  for (std::size_t i = 0; i < main; i += L) {
    f32x8 fa, fb;
    std::memcpy(&fa, a + i, sizeof fa);
    std::memcpy(&fb, b + i, sizeof fb);
    const f64x8 da = __builtin_convertvector(fa, f64x8), db = __builtin_convertvector(fb, f64x8);
    vab += da * db;
    vaa += da * da;
    vbb += db * db;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t l = 0; l < L; ++l) {
    sab += vab[l];
    saa += vaa[l];
    sbb += vbb[l];
  }
  for (std::size_t i = main; i < n; ++i) {
    sab += double(a[i]) * b[i];
    saa += double(a[i]) * a[i];
    sbb += double(b[i]) * b[i];
  }
  *ab = sab;
  *aa = saa;
  *bb = sbb;
}

ISC_CLONES uint64_t cpu_count_saturated(const float* x, std::size_t n, const ActivationSpec& a) {
  const ActivationSpec act = a;
  return with_activation(a.kind, [&](auto k) ISC_INLINE_LAMBDA {
    using A = Act<decltype(k)::value>;
    uint32_t c = 0;
    for (std::size_t i = 0; i < n; ++i) c += A::saturated(act, x[i]);
    return uint64_t(c);
  });
}

namespace {
// Generic (auto-vectorized) forms of the second-pass scans; AVX-512 forms in cpu_scans_avx512.cpp.
ISC_CLONES std::size_t gather_ranges_generic(const float* x, std::size_t n, const float* lo, const float* hi, int k,
                                             float* out, std::size_t cap) {
  // Per block: byte flags from plain loops (the compiler vectorizes these), then a scan of the
  // flags 8 at a time, where almost every word is zero.
  constexpr std::size_t kBlk = 1024;
  uint8_t in[kBlk];
  std::size_t m = 0;
  for (std::size_t s0 = 0; s0 < n; s0 += kBlk) {
    const std::size_t len = std::min(kBlk, n - s0);
    const float* p = x + s0;
    for (std::size_t i = 0; i < len; ++i) in[i] = 0;
    for (int j = 0; j < k; ++j) {
      const float a = lo[j], e = hi[j];
      for (std::size_t i = 0; i < len; ++i) in[i] |= static_cast<uint8_t>((p[i] >= a) & (p[i] < e));
    }
    for (std::size_t i0 = 0; i0 < len; i0 += 8) {
      const std::size_t w = std::min<std::size_t>(8, len - i0);
      uint64_t word = 0;
      std::memcpy(&word, in + i0, w);
      if (word == 0) continue;
      for (std::size_t i = i0; i < i0 + w; ++i)
        if (in[i]) {
          if (m < cap) out[m] = p[i];
          ++m;
        }
    }
  }
  return m;
}

ISC_CLONES void count_lt_le_generic(const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le) {
  // Blocks small enough to stay in L1, one plain (vectorized) counting loop per threshold.
  constexpr std::size_t kBlk = 4096;
  for (int j = 0; j < k; ++j) lt[j] = le[j] = 0;
  for (std::size_t s0 = 0; s0 < n; s0 += kBlk) {
    const std::size_t len = std::min(kBlk, n - s0);
    const float* p = x + s0;
    for (int j = 0; j < k; ++j) {
      const float cj = c[j];
      uint32_t a = 0, b = 0;
      for (std::size_t i = 0; i < len; ++i) {
        a += p[i] < cj;
        b += p[i] <= cj;
      }
      lt[j] += a;
      le[j] += b;
    }
  }
}
}  // namespace

Moments cpu_block_moments_path(int path, const float* x, std::size_t n) {
#if ISC_SCANS_AVX512
  if (path == kPathAvx512) return block_moments_avx512(x, n);
#endif
  (void)path;
  return block_moments_generic(x, n);
}

Moments cpu_block_moments(const float* x, std::size_t n) {
  static const int path = best_path();
  return cpu_block_moments_path(path, x, n);
}

std::size_t cpu_gather_ranges_path(int path, const float* x, std::size_t n, const float* lo, const float* hi, int k,
                                   float* out, std::size_t cap) {
#if ISC_SCANS_AVX512
  if (path == kPathAvx512 && k <= 4) return gather_ranges_avx512(x, n, lo, hi, k, out, cap);
#endif
  (void)path;
  return gather_ranges_generic(x, n, lo, hi, k, out, cap);
}

void cpu_count_lt_le_path(int path, const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le) {
#if ISC_SCANS_AVX512
  if (path == kPathAvx512) return count_lt_le_avx512(x, n, c, k, lt, le);
#endif
  (void)path;
  count_lt_le_generic(x, n, c, k, lt, le);
}

std::size_t cpu_gather_ranges(const float* x, std::size_t n, const float* lo, const float* hi, int k, float* out,
                              std::size_t cap) {
  static const int path = best_path();
  return cpu_gather_ranges_path(path, x, n, lo, hi, k, out, cap);
}

void cpu_count_lt_le(const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le) {
  static const int path = best_path();
  cpu_count_lt_le_path(path, x, n, c, k, lt, le);
}

}  // namespace isc
