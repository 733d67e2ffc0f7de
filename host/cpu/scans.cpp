// scans.cpp — the CPU's scans of float rows: block moments, range gather, threshold counts, dot products.
// Generic forms (auto-vectorized in ISC_CLONES), AVX-512 forms (target("avx512f")) and AVX2 forms
// (target("avx2")), picked at run time; the x86 forms give the same results, bit for bit, as the
// generic loops.
#include "host/cpu/scans.h"

#include "host/cpu/pack8.h"

#include <algorithm>
#include <cstring>

#if ISC_X86_PATHS
#include <immintrin.h>
#endif

namespace isc {

// --- generic forms: plain loops the compiler vectorizes, one clone per x86-64 level ---------------
namespace {

// The scalar ends of both forms of block moments, in one place so that the two agree bit for bit:
// the 16 lanes' extremes and the L lanes' partial sums combined, then the tail x[main..n), in a
// fixed order.
struct SumMinMax {
  double sum;
  float mn, mx;
};
inline __attribute__((always_inline)) SumMinMax finish_sum(const double* lanes, std::size_t L, const float* lo,
                                                           const float* hi, const float* x, std::size_t main,
                                                           std::size_t n) {
  SumMinMax r{0.0, x[0], x[0]};
  for (int j = 0; j < 16; ++j) {
    r.mn = lo[j] < r.mn ? lo[j] : r.mn;
    r.mx = hi[j] > r.mx ? hi[j] : r.mx;
  }
  for (std::size_t j = 0; j < L; ++j) r.sum += lanes[j];
  for (std::size_t i = main; i < n; ++i) {
    r.sum += x[i];
    r.mn = x[i] < r.mn ? x[i] : r.mn;
    r.mx = x[i] > r.mx ? x[i] : r.mx;
  }
  return r;
}
inline __attribute__((always_inline)) Moments finish_m2(const double* lanes, std::size_t L, const float* x,
                                                        std::size_t main, std::size_t n, double mean,
                                                        const SumMinMax& s) {
  double m2 = 0.0;
  for (std::size_t j = 0; j < L; ++j) m2 += lanes[j];
  for (std::size_t i = main; i < n; ++i) m2 += (double(x[i]) - mean) * (double(x[i]) - mean);
  Moments m;
  m.n = double(n);
  m.mean = mean;
  m.m2 = m2;
  m.min = s.mn;
  m.max = s.mx;
  return m;
}

ISC_CLONES Moments block_moments_generic(const float* x, std::size_t n) {
  // 32 interleaved double sums (lane l sums x[i + l], i a multiple of 32; sixteen vectors of 2, so
  // that many add chains overlap), in one loop with the min and max over 16 float lanes (lane j
  // takes x[i + j] then x[i + 16 + j]); then the squared deviations from the block mean the same
  // way. Lanes are combined in a fixed order: the same bits on every instruction-set level. Vectors
  // of 128 bits, which every SIMD level has: GCC turns wider ones into scalar code where the
  // machine lacks them (in the x86-64-v3 clone, 2^20 gaussian values: the 512-bit form took 2.6 ns
  // per value, this one 0.8).
  constexpr int L = 32;
  typedef float f32x4 __attribute__((vector_size(16)));
  typedef float f32x2 __attribute__((vector_size(8)));
  typedef double f64x2 __attribute__((vector_size(16)));
  if (n == 0) return Moments{};
  const std::size_t main = n / L * L;
  f32x4 vlo[4], vhi[4];
  for (int r = 0; r < 4; ++r) vlo[r] = vhi[r] = f32x4{} + x[0];
  f64x2 acc[16] = {};
  for (std::size_t i = 0; i < main; i += L) {
    for (int h = 0; h < 2; ++h)
      for (int r = 0; r < 4; ++r) {
        f32x4 v;
        std::memcpy(&v, x + i + 16 * h + 4 * r, sizeof v);
        vlo[r] = v < vlo[r] ? v : vlo[r];
        vhi[r] = v > vhi[r] ? v : vhi[r];
      }
    for (int p = 0; p < 16; ++p) {
      f32x2 a;
      std::memcpy(&a, x + i + 2 * p, sizeof a);
      acc[p] += __builtin_convertvector(a, f64x2);
    }
  }
  float lo[16], hi[16];
  std::memcpy(lo, vlo, sizeof lo);
  std::memcpy(hi, vhi, sizeof hi);
  double lanes[L];
  std::memcpy(lanes, acc, sizeof lanes);
  const SumMinMax smm = finish_sum(lanes, L, lo, hi, x, main, n);
  const double mean = smm.sum / double(n);
  const f64x2 vmean = f64x2{} + mean;
  f64x2 sq[16] = {};
  for (std::size_t i = 0; i < main; i += L)
    for (int p = 0; p < 16; ++p) {
      f32x2 a;
      std::memcpy(&a, x + i + 2 * p, sizeof a);
      const f64x2 d = __builtin_convertvector(a, f64x2) - vmean;
      sq[p] += d * d;
    }
  std::memcpy(lanes, sq, sizeof lanes);
  return finish_m2(lanes, L, x, main, n, mean, smm);
}

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
// Appends each of v[0..g) to every bracket [lo[j], hi[j]) it is inside, at out[j][seen[j]] while
// below cap[j]; seen[j] counts them all.
inline void append_to_brackets(const float* v, std::size_t g, int k, const float* lo, const float* hi,
                               float* const* out, const std::size_t* cap, std::size_t* seen) {
  for (std::size_t i = 0; i < g; ++i)
    for (int j = 0; j < k; ++j)
      if (v[i] >= lo[j] && v[i] < hi[j]) {
        if (seen[j] < cap[j]) out[j][seen[j]] = v[i];
        ++seen[j];
      }
}

ISC_CLONES void bracket_scan_generic(const float* x, std::size_t n, int k, const float* lo, const float* hi,
                                     uint64_t* below, float* const* out, const std::size_t* cap, std::size_t* seen) {
  // Per piece: the counts below each bracket and flags of the values inside any bracket by plain
  // (vectorized) loops; those values appended to a buffer without a branch (the median's bracket
  // is hit at random: a branch per value mispredicts often), then split among the brackets.
  constexpr std::size_t kPiece = 1024;
  float inside[kPiece];
  for (std::size_t s0 = 0; s0 < n; s0 += kPiece) {
    const std::size_t len = std::min(kPiece, n - s0);
    const float* p = x + s0;
    for (int j = 0; j < k; ++j) {
      const float a = lo[j];
      uint32_t b = 0;
      for (std::size_t i = 0; i < len; ++i) b += p[i] < a;  // vectorizes
      below[j] += b;
    }
    uint8_t in[kPiece];
    for (std::size_t i = 0; i < len; ++i) in[i] = 0;
    for (int j = 0; j < k; ++j) {
      const float a = lo[j], e = hi[j];
      for (std::size_t i = 0; i < len; ++i) in[i] |= static_cast<uint8_t>((p[i] >= a) & (p[i] < e));  // vectorizes
    }
    std::size_t g = 0;
    for (std::size_t i = 0; i < len; ++i) {
      inside[g] = p[i];
      g += in[i];
    }
    append_to_brackets(inside, g, k, lo, hi, out, cap, seen);
  }
}
}  // namespace

// --- AVX-512 forms ----------------------------------------------------------------------------
#if ISC_X86_PATHS
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the unused merge source and then warn
// that it "may be used uninitialized" (a known false positive in the system header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace {

__attribute__((target("avx512f"))) inline __mmask16 tail_mask(std::size_t left) {
  return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
}
__attribute__((target("avx512f"))) inline uint64_t lane_sum(__m512i v) {
  alignas(64) uint32_t l[16];
  _mm512_store_si512(l, v);
  uint64_t s = 0;
  for (uint32_t x : l) s += x;
  return s;
}

// Whether each lane of v lies in one of K ranges [lo[j], hi[j]) (ordered compares: NaN never does).
template <int K>
__attribute__((target("avx512f"))) inline __mmask16 inside(__m512 v, __mmask16 live, const __m512* lo,
                                                           const __m512* hi) {
  __mmask16 in = 0;
  for (int j = 0; j < K; ++j)
    in = _kor_mask16(
        in, _mm512_mask_cmp_ps_mask(_mm512_mask_cmp_ps_mask(live, v, lo[j], _CMP_GE_OQ), v, hi[j], _CMP_LT_OQ));
  return in;
}

__attribute__((target("avx512f,popcnt"))) inline void put(__m512 v, __mmask16 in, float* out, std::size_t cap,
                                                          std::size_t* m) {
  const std::size_t c = static_cast<std::size_t>(__builtin_popcount(in));
  if (*m + c <= cap)  // in index order: compress in a register, then a masked store
    _mm512_mask_storeu_ps(out + *m, tail_mask(c), _mm512_maskz_compress_ps(in, v));
  *m += c;
}

// K ranges at once, 64 values per step with one branch on the union of their masks (most steps
// gather nothing).
template <int K>
__attribute__((target("avx512f,popcnt"))) std::size_t gather_k(const float* x, std::size_t n, const float* lo,
                                                               const float* hi, float* out, std::size_t cap) {
  __m512 l[K], h[K];
  for (int j = 0; j < K; ++j) {
    l[j] = _mm512_set1_ps(lo[j]);
    h[j] = _mm512_set1_ps(hi[j]);
  }
  std::size_t m = 0, i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
    const __mmask16 a = inside<K>(v0, 0xffff, l, h), b = inside<K>(v1, 0xffff, l, h);
    const __mmask16 c = inside<K>(v2, 0xffff, l, h), d = inside<K>(v3, 0xffff, l, h);
    if (_kortestz_mask16_u8(_kor_mask16(a, b), _kor_mask16(c, d))) continue;
    put(v0, a, out, cap, &m);
    put(v1, b, out, cap, &m);
    put(v2, c, out, cap, &m);
    put(v3, d, out, cap, &m);
  }
  for (; i < n; i += 16) {
    const __mmask16 live = tail_mask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    put(v, inside<K>(v, live, l, h), out, cap, &m);
  }
  return m;
}

// At most 4 ranges (more: std::size_t(-1), and the caller uses the generic loop).
__attribute__((target("avx512f,popcnt"))) std::size_t gather_ranges_avx512(const float* x, std::size_t n,
                                                                           const float* lo, const float* hi, int k,
                                                                           float* out, std::size_t cap) {
  switch (k) {
    case 0: return 0;
    case 1: return gather_k<1>(x, n, lo, hi, out, cap);
    case 2: return gather_k<2>(x, n, lo, hi, out, cap);
    case 3: return gather_k<3>(x, n, lo, hi, out, cap);
    case 4: return gather_k<4>(x, n, lo, hi, out, cap);
    default: return std::size_t(-1);  // more ranges: the caller uses the generic loop
  }
}

// K brackets at once, in pieces of kPiece values: each vector of x is loaded once; per bracket the
// lanes below it are counted in vector counters, and the lanes inside any bracket are compressed
// once, without a branch (the median's bracket is hit at random), into a buffer on the stack; that
// buffer (about a tenth of the piece) is then split among the brackets. One compress per vector
// instead of one per bracket: 0.51 -> 0.32 ns per value for three brackets (a microbenchmark,
// 2^20 gaussian values).
template <int K>
__attribute__((target("avx512f,popcnt"))) void bracket_k(const float* x, std::size_t n, const float* lo,
                                                         const float* hi, uint64_t* below, float* const* out,
                                                         const std::size_t* cap, std::size_t* seen) {
  constexpr std::size_t kPiece = 4096;
  const __m512i one = _mm512_set1_epi32(1);
  __m512 l[K], h[K];
  __m512i count[K];
  for (int j = 0; j < K; ++j) {
    l[j] = _mm512_set1_ps(lo[j]);
    h[j] = _mm512_set1_ps(hi[j]);
    count[j] = _mm512_setzero_si512();
  }
  alignas(64) float inside[kPiece + 16];
  for (std::size_t start = 0; start < n; start += kPiece) {
    const std::size_t end = std::min(n, start + kPiece);
    std::size_t g = 0;
    for (std::size_t i = start; i < end; i += 16) {
      const __mmask16 live = tail_mask(end - i);
      const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
      __mmask16 any = 0;
      for (int j = 0; j < K; ++j) {
        const __mmask16 lt = _mm512_mask_cmp_ps_mask(live, v, l[j], _CMP_LT_OQ);
        count[j] = _mm512_mask_add_epi32(count[j], lt, count[j], one);
        // Not below lo and below hi (NaN is not below lo, but neither is it below hi).
        any = _kor_mask16(any, _mm512_mask_cmp_ps_mask(_kandn_mask16(lt, live), v, h[j], _CMP_LT_OQ));
      }
      _mm512_storeu_ps(inside + g, _mm512_maskz_compress_ps(any, v));  // room: kPiece + 16
      g += static_cast<std::size_t>(__builtin_popcount(any));
    }
    for (std::size_t i = 0; i < g; i += 16) {
      const __mmask16 live = tail_mask(g - i);
      const __m512 v = _mm512_maskz_loadu_ps(live, inside + i);
      for (int j = 0; j < K; ++j)
        put(v, _mm512_mask_cmp_ps_mask(_mm512_mask_cmp_ps_mask(live, v, l[j], _CMP_GE_OQ), v, h[j], _CMP_LT_OQ), out[j],
            cap[j], &seen[j]);
    }
  }
  for (int j = 0; j < K; ++j) below[j] += lane_sum(count[j]);
}

// At most 4 brackets (more: false, and the caller uses the generic loop).
__attribute__((target("avx512f,popcnt"))) bool bracket_scan_avx512(const float* x, std::size_t n, int k,
                                                                   const float* lo, const float* hi, uint64_t* below,
                                                                   float* const* out, const std::size_t* cap,
                                                                   std::size_t* seen) {
  switch (k) {
    case 0: return true;
    case 1: bracket_k<1>(x, n, lo, hi, below, out, cap, seen); return true;
    case 2: bracket_k<2>(x, n, lo, hi, below, out, cap, seen); return true;
    case 3: bracket_k<3>(x, n, lo, hi, below, out, cap, seen); return true;
    case 4: bracket_k<4>(x, n, lo, hi, below, out, cap, seen); return true;
    default: return false;
  }
}

// Counts for K thresholds at once: each vector of x is loaded once, the counters stay in registers.
template <int K>
__attribute__((target("avx512f"))) inline void count_group(const float* p, std::size_t len, const float* c,
                                                           uint64_t* lt, uint64_t* le) {
  const __m512i one = _mm512_set1_epi32(1);
  __m512 cj[K];
  __m512i a[K], b[K];
  for (int j = 0; j < K; ++j) {
    cj[j] = _mm512_set1_ps(c[j]);
    a[j] = b[j] = _mm512_setzero_si512();
  }
  for (std::size_t i = 0; i < len; i += 16) {
    const __mmask16 live = tail_mask(len - i);
    const __m512 v = live == 0xffff ? _mm512_loadu_ps(p + i) : _mm512_maskz_loadu_ps(live, p + i);
    for (int j = 0; j < K; ++j) {
      a[j] = _mm512_mask_add_epi32(a[j], _mm512_mask_cmp_ps_mask(live, v, cj[j], _CMP_LT_OQ), a[j], one);
      b[j] = _mm512_mask_add_epi32(b[j], _mm512_mask_cmp_ps_mask(live, v, cj[j], _CMP_LE_OQ), b[j], one);
    }
  }
  for (int j = 0; j < K; ++j) {
    lt[j] += lane_sum(a[j]);
    le[j] += lane_sum(b[j]);
  }
}

__attribute__((target("avx512f"))) void count_lt_le_avx512(const float* x, std::size_t n, const float* c, int k,
                                                           uint64_t* lt, uint64_t* le) {
  // Blocks of 4096 values (L1) so that 32-bit lane counters (<= 256 per lane) cannot overflow;
  // thresholds in groups of up to 4 (8 counter registers).
  constexpr std::size_t kBlk = 4096;
  for (int j = 0; j < k; ++j) lt[j] = le[j] = 0;
  for (std::size_t s0 = 0; s0 < n; s0 += kBlk) {
    const std::size_t len = n - s0 < kBlk ? n - s0 : kBlk;
    for (int j = 0; j < k; j += 4) {
      const float* p = x + s0;
      switch (k - j < 4 ? k - j : 4) {
        case 1: count_group<1>(p, len, c + j, lt + j, le + j); break;
        case 2: count_group<2>(p, len, c + j, lt + j, le + j); break;
        case 3: count_group<3>(p, len, c + j, lt + j, le + j); break;
        default: count_group<4>(p, len, c + j, lt + j, le + j); break;
      }
    }
  }
}

__attribute__((target("avx512f"))) inline __m512d widen(__m256 a) { return _mm512_cvtps_pd(a); }

__attribute__((target("avx512f"))) Moments block_moments_avx512(const float* x, std::size_t n) {
  // Lane for lane the generic cpu_block_moments: 32 interleaved double sums (four vectors of 8),
  // min and max over 16 float lanes, lanes combined in the same fixed order.
  constexpr std::size_t L = 32;
  if (n == 0) return Moments{};
  const std::size_t main = n / L * L;
  __m512 vlo = _mm512_set1_ps(x[0]), vhi = vlo;
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  for (std::size_t i = 0; i < main; i += L) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    // vminps(v, lo) is exactly (v < lo ? v : lo), the generic loop's select, in the same order.
    vlo = _mm512_min_ps(v0, vlo);
    vhi = _mm512_max_ps(v0, vhi);
    vlo = _mm512_min_ps(v1, vlo);
    vhi = _mm512_max_ps(v1, vhi);
    a0 = _mm512_add_pd(a0, widen(_mm256_loadu_ps(x + i)));
    a1 = _mm512_add_pd(a1, widen(_mm256_loadu_ps(x + i + 8)));
    a2 = _mm512_add_pd(a2, widen(_mm256_loadu_ps(x + i + 16)));
    a3 = _mm512_add_pd(a3, widen(_mm256_loadu_ps(x + i + 24)));
  }
  alignas(64) float lo[16], hi[16];
  alignas(64) double lanes[L];
  _mm512_store_ps(lo, vlo);
  _mm512_store_ps(hi, vhi);
  _mm512_store_pd(lanes, a0);
  _mm512_store_pd(lanes + 8, a1);
  _mm512_store_pd(lanes + 16, a2);
  _mm512_store_pd(lanes + 24, a3);
  const SumMinMax smm = finish_sum(lanes, L, lo, hi, x, main, n);
  const double mean = smm.sum / double(n);
  const __m512d vm = _mm512_set1_pd(mean);
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  for (std::size_t i = 0; i < main; i += L) {
    const __m512d d0 = _mm512_sub_pd(widen(_mm256_loadu_ps(x + i)), vm);
    const __m512d d1 = _mm512_sub_pd(widen(_mm256_loadu_ps(x + i + 8)), vm);
    const __m512d d2 = _mm512_sub_pd(widen(_mm256_loadu_ps(x + i + 16)), vm);
    const __m512d d3 = _mm512_sub_pd(widen(_mm256_loadu_ps(x + i + 24)), vm);
    // Separate multiply and add, as the generic loop (no contraction there either).
    s0 = _mm512_add_pd(s0, _mm512_mul_pd(d0, d0));
    s1 = _mm512_add_pd(s1, _mm512_mul_pd(d1, d1));
    s2 = _mm512_add_pd(s2, _mm512_mul_pd(d2, d2));
    s3 = _mm512_add_pd(s3, _mm512_mul_pd(d3, d3));
  }
  _mm512_store_pd(lanes, s0);
  _mm512_store_pd(lanes + 8, s1);
  _mm512_store_pd(lanes + 16, s2);
  _mm512_store_pd(lanes + 24, s3);
  return finish_m2(lanes, L, x, main, n, mean, smm);
}

}  // namespace
#pragma GCC diagnostic pop

// --- AVX2 forms (x86-64-v3: no compress instruction, no masks) ----------------------------------
namespace {

__attribute__((target("avx2"))) inline uint64_t lane_sum8(__m256i v) {
  alignas(32) uint32_t l[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), v);
  uint64_t s = 0;
  for (uint32_t x : l) s += x;
  return s;
}

// Appends the lanes of v in `in` (8-bit mask) to out at *m while they fit below cap (whole vectors
// where 8 lanes fit, so that nothing is written at or past cap); *m counts them all.
__attribute__((target("avx2,popcnt"))) inline void put8(__m256 v, int in, float* out, std::size_t cap, std::size_t* m,
                                                        const PackTable& t) {
  const std::size_t c = static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(in)));
  if (*m + 8 <= cap) {
    _mm256_storeu_ps(out + *m, pack8(v, in, t));
  } else if (*m + c <= cap) {
    alignas(32) float p[8];
    _mm256_store_ps(p, pack8(v, in, t));
    for (std::size_t q = 0; q < c; ++q) out[*m + q] = p[q];
  }
  *m += c;
}

// As bracket_k (AVX-512): K brackets at once, in pieces of kPiece values; each vector of 8 is
// loaded once, the lanes below each bracket counted in vector counters, the lanes inside any
// bracket packed (one vpermps, no branch) onto a stack buffer that is then split among the
// brackets 8 values at a time. The same counts and the same values in the same order as the
// generic loop.
template <int K>
__attribute__((target("avx2,popcnt"))) void bracket_k_avx2(const float* x, std::size_t n, const float* lo,
                                                           const float* hi, uint64_t* below, float* const* out,
                                                           const std::size_t* cap, std::size_t* seen) {
  constexpr std::size_t kPiece = 4096;
  const PackTable& t = pack_table();
  __m256 l[K], h[K];
  __m256i count[K];  // minus the lanes below lo[j] (a true compare is all ones: -1)
  for (int j = 0; j < K; ++j) {
    l[j] = _mm256_set1_ps(lo[j]);
    h[j] = _mm256_set1_ps(hi[j]);
    count[j] = _mm256_setzero_si256();
  }
  alignas(32) float inside[kPiece + 8];
  const std::size_t main = n / 8 * 8;
  for (std::size_t start = 0; start < main; start += kPiece) {
    const std::size_t end = std::min(main, start + kPiece);
    std::size_t g = 0;
    for (std::size_t i = start; i < end; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      __m256 any = _mm256_setzero_ps();
      for (int j = 0; j < K; ++j) {
        const __m256 lt = _mm256_cmp_ps(v, l[j], _CMP_LT_OQ);
        count[j] = _mm256_add_epi32(count[j], _mm256_castps_si256(lt));
        // Not below lo and below hi (NaN is not below lo, but neither is it below hi).
        any = _mm256_or_ps(any, _mm256_andnot_ps(lt, _mm256_cmp_ps(v, h[j], _CMP_LT_OQ)));
      }
      const int m = _mm256_movemask_ps(any);
      _mm256_storeu_ps(inside + g, pack8(v, m, t));  // room: kPiece + 8
      g += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(m)));
    }
    // Split among the brackets, 8 values at a time, then the last few one by one.
    std::size_t i = 0;
    for (; i + 8 <= g; i += 8) {
      const __m256 v = _mm256_loadu_ps(inside + i);
      for (int j = 0; j < K; ++j) {
        const int m =
            _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(v, l[j], _CMP_GE_OQ), _mm256_cmp_ps(v, h[j], _CMP_LT_OQ)));
        if (m == 0) continue;
        put8(v, m, out[j], cap[j], &seen[j], t);
      }
    }
    append_to_brackets(inside + i, g - i, K, lo, hi, out, cap, seen);
  }
  // Counters: at most kPiece / 8 = 512 per lane per piece, and n / 8 in all (below 2^32 for the
  // arrays here: n < 2^35).
  for (int j = 0; j < K; ++j) below[j] += lane_sum8(_mm256_sub_epi32(_mm256_setzero_si256(), count[j]));
  bracket_scan_generic(x + main, n - main, K, lo, hi, below, out, cap, seen);  // the last few values
}

// The lanes of v inside any of K ranges [l[j], h[j]), as an 8-bit mask (NaN never is).
template <int K>
__attribute__((target("avx2"))) inline int inside8(__m256 v, const __m256* l, const __m256* h) {
  __m256 in = _mm256_setzero_ps();
  for (int j = 0; j < K; ++j)
    in = _mm256_or_ps(in, _mm256_and_ps(_mm256_cmp_ps(v, l[j], _CMP_GE_OQ), _mm256_cmp_ps(v, h[j], _CMP_LT_OQ)));
  return _mm256_movemask_ps(in);
}

// As gather_k (AVX-512): K ranges at once, 32 values per step with one branch on the union of
// their masks (most steps gather nothing); the tail (< 32 values) by the generic loop.
template <int K>
__attribute__((target("avx2,popcnt"))) std::size_t gather_k_avx2(const float* x, std::size_t n, const float* lo,
                                                                 const float* hi, float* out, std::size_t cap) {
  const PackTable& t = pack_table();
  __m256 l[K], h[K];
  for (int j = 0; j < K; ++j) {
    l[j] = _mm256_set1_ps(lo[j]);
    h[j] = _mm256_set1_ps(hi[j]);
  }
  std::size_t m = 0, i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    const int a = inside8<K>(v0, l, h), b = inside8<K>(v1, l, h), c = inside8<K>(v2, l, h), d = inside8<K>(v3, l, h);
    if ((a | b | c | d) == 0) continue;
    put8(v0, a, out, cap, &m, t);
    put8(v1, b, out, cap, &m, t);
    put8(v2, c, out, cap, &m, t);
    put8(v3, d, out, cap, &m, t);
  }
  // The last few values by the generic loop, after the m gathered so far.
  return m + gather_ranges_generic(x + i, n - i, lo, hi, K, m < cap ? out + m : out, m < cap ? cap - m : 0);
}

__attribute__((target("avx2,popcnt"))) std::size_t gather_ranges_avx2(const float* x, std::size_t n, const float* lo,
                                                                      const float* hi, int k, float* out,
                                                                      std::size_t cap) {
  switch (k) {
    case 0: return 0;
    case 1: return gather_k_avx2<1>(x, n, lo, hi, out, cap);
    case 2: return gather_k_avx2<2>(x, n, lo, hi, out, cap);
    case 3: return gather_k_avx2<3>(x, n, lo, hi, out, cap);
    case 4: return gather_k_avx2<4>(x, n, lo, hi, out, cap);
    default: return std::size_t(-1);
  }
}

__attribute__((target("avx2,popcnt"))) bool bracket_scan_avx2(const float* x, std::size_t n, int k, const float* lo,
                                                              const float* hi, uint64_t* below, float* const* out,
                                                              const std::size_t* cap, std::size_t* seen) {
  switch (k) {
    case 0: return true;
    case 1: bracket_k_avx2<1>(x, n, lo, hi, below, out, cap, seen); return true;
    case 2: bracket_k_avx2<2>(x, n, lo, hi, below, out, cap, seen); return true;
    case 3: bracket_k_avx2<3>(x, n, lo, hi, below, out, cap, seen); return true;
    case 4: bracket_k_avx2<4>(x, n, lo, hi, below, out, cap, seen); return true;
    default: return false;
  }
}

__attribute__((target("avx2"))) Moments block_moments_avx2(const float* x, std::size_t n) {
  // Lane for lane the generic cpu_block_moments: 32 double sums (here eight vectors of 4; lane
  // 4p + l sums x[i + 4p + l]), min and max over 16 float lanes (two vectors of 8: lane j takes
  // x[i + j] then x[i + 16 + j]), lanes combined in the same fixed order. 0.27 ns per value against
  // the generic loop's 0.8 in its x86-64-v3 clone (2^20 gaussian values in blocks of 4096, one
  // thread of an AMD EPYC).
  constexpr std::size_t L = 32;
  if (n == 0) return Moments{};
  const std::size_t main = n / L * L;
  __m256 lo0 = _mm256_set1_ps(x[0]), lo1 = lo0, hi0 = lo0, hi1 = lo0;
  __m256d a[8];
  for (auto& v : a) v = _mm256_setzero_pd();
  for (std::size_t i = 0; i < main; i += L) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    // vminps(v, lo) is exactly (v < lo ? v : lo), the generic loop's select, in the same order.
    lo0 = _mm256_min_ps(v0, lo0);
    hi0 = _mm256_max_ps(v0, hi0);
    lo1 = _mm256_min_ps(v1, lo1);
    hi1 = _mm256_max_ps(v1, hi1);
    lo0 = _mm256_min_ps(v2, lo0);
    hi0 = _mm256_max_ps(v2, hi0);
    lo1 = _mm256_min_ps(v3, lo1);
    hi1 = _mm256_max_ps(v3, hi1);
    for (int p = 0; p < 8; ++p) a[p] = _mm256_add_pd(a[p], _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * p)));
  }
  alignas(32) float lo[16], hi[16];
  alignas(32) double lanes[L];
  _mm256_store_ps(lo, lo0);
  _mm256_store_ps(lo + 8, lo1);
  _mm256_store_ps(hi, hi0);
  _mm256_store_ps(hi + 8, hi1);
  for (int p = 0; p < 8; ++p) _mm256_store_pd(lanes + 4 * p, a[p]);
  const SumMinMax smm = finish_sum(lanes, L, lo, hi, x, main, n);
  const double mean = smm.sum / double(n);
  const __m256d vm = _mm256_set1_pd(mean);
  __m256d s[8];
  for (auto& v : s) v = _mm256_setzero_pd();
  for (std::size_t i = 0; i < main; i += L)
    for (int p = 0; p < 8; ++p) {
      const __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * p)), vm);
      s[p] = _mm256_add_pd(s[p], _mm256_mul_pd(d, d));  // no contraction, as the generic loop
    }
  for (int p = 0; p < 8; ++p) _mm256_store_pd(lanes + 4 * p, s[p]);
  return finish_m2(lanes, L, x, main, n, mean, smm);
}

}  // namespace
#endif

// --- dot products (generic only) ---------------------------------------------------------------
ISC_CLONES void cpu_dot3(const float* a, const float* b, std::size_t n, double* ab, double* aa, double* bb) {
  // 8 double lanes per sum, as two vectors of 4 (vectors wider than the machine's become scalar
  // code in GCC's lowering: 256 bits is native on x86-64-v3 and splits cleanly below).
  typedef float f32x4 __attribute__((vector_size(16)));
  typedef double f64x4 __attribute__((vector_size(32)));
  constexpr std::size_t L = 8;
  const std::size_t main = n / L * L;
  f64x4 vab[2] = {}, vaa[2] = {}, vbb[2] = {};
  for (std::size_t i = 0; i < main; i += L)
    for (int h = 0; h < 2; ++h) {
      f32x4 fa, fb;
      std::memcpy(&fa, a + i + 4 * h, sizeof fa);
      std::memcpy(&fb, b + i + 4 * h, sizeof fb);
      const f64x4 da = __builtin_convertvector(fa, f64x4), db = __builtin_convertvector(fb, f64x4);
      vab[h] += da * db;
      vaa[h] += da * da;
      vbb[h] += db * db;
    }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t l = 0; l < L; ++l) {
    sab += vab[l / 4][l % 4];
    saa += vaa[l / 4][l % 4];
    sbb += vbb[l / 4][l % 4];
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

// --- run-time choice and the *_path entry points ------------------------------------------------
Moments cpu_block_moments_path(int path, const float* x, std::size_t n) {
#if ISC_X86_PATHS
  if (path == kPathAvx512) return block_moments_avx512(x, n);
  if (path == kPathAvx2) return block_moments_avx2(x, n);
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
#if ISC_X86_PATHS
  if (path == kPathAvx512 && k <= 4) return gather_ranges_avx512(x, n, lo, hi, k, out, cap);
  if (path == kPathAvx2 && k <= 4) return gather_ranges_avx2(x, n, lo, hi, k, out, cap);
#endif
  (void)path;
  return gather_ranges_generic(x, n, lo, hi, k, out, cap);
}

void cpu_count_lt_le_path(int path, const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le) {
#if ISC_X86_PATHS
  if (path == kPathAvx512) return count_lt_le_avx512(x, n, c, k, lt, le);
#endif
  (void)path;
  count_lt_le_generic(x, n, c, k, lt, le);
}

void cpu_bracket_scan_path(int path, const float* x, std::size_t n, int k, const float* lo, const float* hi,
                           uint64_t* below, float* const* out, const std::size_t* cap, std::size_t* seen) {
#if ISC_X86_PATHS
  if (path == kPathAvx512 && bracket_scan_avx512(x, n, k, lo, hi, below, out, cap, seen)) return;
  if (path == kPathAvx2 && bracket_scan_avx2(x, n, k, lo, hi, below, out, cap, seen)) return;
#endif
  (void)path;
  bracket_scan_generic(x, n, k, lo, hi, below, out, cap, seen);
}

void cpu_bracket_scan(const float* x, std::size_t n, int k, const float* lo, const float* hi, uint64_t* below,
                      float* const* out, const std::size_t* cap, std::size_t* seen) {
  static const int path = best_path();
  cpu_bracket_scan_path(path, x, n, k, lo, hi, below, out, cap, seen);
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
