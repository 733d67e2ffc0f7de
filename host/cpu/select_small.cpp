// select_small.cpp — exact order statistics by quickselect with branchless three-way partitions (3 paths).
#include "host/cpu/select_small.h"

#include <algorithm>

#include "host/cpu/isa.h"

#if ISC_X86_PATHS
#include <immintrin.h>
#endif
#include "host/cpu/pack8.h"

namespace isc {

namespace {
constexpr std::size_t kSlack = 16;  // the AVX-512 partition writes whole vectors past each part's end
constexpr std::size_t kMaxPartitioned = std::size_t(1) << 18;  // scratch of at most 3 MiB per thread

// Splits v[0, len) into the values below p (to lt, in order), equal to it (eq; -0 and +0 are equal,
// both kept as they are) and above it (gt); returns the three counts.
struct Parts {
  std::size_t nl, ne, ng;
};
using PartitionFn = Parts (*)(const float* v, std::size_t len, float p, float* lt, float* eq, float* gt);

Parts partition_generic(const float* v, std::size_t len, float p, float* lt, float* eq, float* gt) {
  std::size_t nl = 0, ne = 0, ng = 0;
  for (std::size_t i = 0; i < len; ++i) {  // every store always; only the counts depend on x
    const float x = v[i];
    lt[nl] = x;
    eq[ne] = x;
    gt[ng] = x;
    const std::size_t below = x<p, above = x> p;
    nl += below;
    ng += above;
    ne += 1 - below - above;
  }
  return Parts{nl, ne, ng};
}

#if ISC_X86_PATHS
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the unused merge source and then warn
// that it "may be used uninitialized" (a known false positive in the system header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// 16 values per step, each part compressed in a register and stored whole (kSlack past its end).
__attribute__((target("avx512f,popcnt"))) Parts partition_avx512(const float* v, std::size_t len, float p, float* lt,
                                                                 float* eq, float* gt) {
  const __m512 vp = _mm512_set1_ps(p);
  std::size_t nl = 0, ne = 0, ng = 0;
  for (std::size_t i = 0; i < len; i += 16) {
    const __mmask16 live = len - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (len - i)) - 1u);
    const __m512 x = _mm512_maskz_loadu_ps(live, v + i);
    const __mmask16 below = _mm512_mask_cmp_ps_mask(live, x, vp, _CMP_LT_OQ);
    const __mmask16 above = _mm512_mask_cmp_ps_mask(live, x, vp, _CMP_GT_OQ);
    const __mmask16 at = _kandn_mask16(_kor_mask16(below, above), live);
    _mm512_storeu_ps(lt + nl, _mm512_maskz_compress_ps(below, x));
    _mm512_storeu_ps(eq + ne, _mm512_maskz_compress_ps(at, x));
    _mm512_storeu_ps(gt + ng, _mm512_maskz_compress_ps(above, x));
    nl += static_cast<std::size_t>(__builtin_popcount(below));
    ne += static_cast<std::size_t>(__builtin_popcount(at));
    ng += static_cast<std::size_t>(__builtin_popcount(above));
  }
  return Parts{nl, ne, ng};
}
#pragma GCC diagnostic pop

// 8 values per step on AVX2, each part packed by vpermps (pack8.h) and stored whole; the last few
// values as the generic loop.
__attribute__((target("avx2,popcnt"))) Parts partition_avx2(const float* v, std::size_t len, float p, float* lt,
                                                            float* eq, float* gt) {
  const PackTable& t = pack_table();
  const __m256 vp = _mm256_set1_ps(p);
  std::size_t nl = 0, ne = 0, ng = 0, i = 0;
  for (; i + 8 <= len; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    const int below = _mm256_movemask_ps(_mm256_cmp_ps(x, vp, _CMP_LT_OQ));
    const int above = _mm256_movemask_ps(_mm256_cmp_ps(x, vp, _CMP_GT_OQ));
    const int at = ~(below | above) & 0xff;
    _mm256_storeu_ps(lt + nl, pack8(x, below, t));
    _mm256_storeu_ps(eq + ne, pack8(x, at, t));
    _mm256_storeu_ps(gt + ng, pack8(x, above, t));
    nl += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(below)));
    ne += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(at)));
    ng += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(above)));
  }
  const Parts r = partition_generic(v + i, len - i, p, lt + nl, eq + ne, gt + ng);
  return Parts{nl + r.nl, ne + r.ne, ng + r.ng};
}
#endif

struct Ctx {
  float* v;
  const uint64_t* ranks;
  float* out;
  float *lt, *eq, *gt;  // tmp, n + kSlack values each
  PartitionFn partition;
};

float median3(float a, float b, float c) { return std::max(std::min(a, b), std::min(std::max(a, b), c)); }

// Ranks [r0, r1) of ranks lie in v[lo, hi).
void select_in(const Ctx& c, std::size_t lo, std::size_t hi, std::size_t r0, std::size_t r1, int passes) {
  while (r0 < r1) {
    const std::size_t len = hi - lo;
    float* v = c.v + lo;
    if (len <= 16) {  // insertion sort
      for (std::size_t i = 1; i < len; ++i) {
        const float x = v[i];
        std::size_t j = i;
        for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
        v[j] = x;
      }
      for (std::size_t j = r0; j < r1; ++j) c.out[j] = c.v[c.ranks[j]];
      return;
    }
    if (passes-- <= 0) {  // poor pivots many times: the library's introselect, rank by rank
      for (std::size_t j = r0; j < r1; ++j) {
        std::nth_element(v, c.v + c.ranks[j], v + len);
        c.out[j] = c.v[c.ranks[j]];
      }
      return;
    }
    const float p = median3(v[0], v[len / 2], v[len - 1]);
    const Parts n = c.partition(v, len, p, c.lt, c.eq, c.gt);  // n.ne >= 1: the pivot is a value
    std::copy(c.lt, c.lt + n.nl, v);
    std::copy(c.eq, c.eq + n.ne, v + n.nl);
    std::copy(c.gt, c.gt + n.ng, v + n.nl + n.ne);
    // Ranks below, among the pivot's equals, above.
    const std::size_t a = lo + n.nl, e = a + n.ne;
    std::size_t m0 = r0;
    while (m0 < r1 && c.ranks[m0] < a) ++m0;
    std::size_t m1 = m0;
    for (; m1 < r1 && c.ranks[m1] < e; ++m1) c.out[m1] = c.v[c.ranks[m1]];
    // The smaller side by recursion, the larger by the loop.
    if (a - lo < hi - e) {
      select_in(c, lo, a, r0, m0, passes);
      lo = e;
      r0 = m1;
    } else {
      select_in(c, e, hi, m1, r1, passes);
      hi = a;
      r1 = m0;
    }
  }
}
}  // namespace

void select_small_path(int path, float* v, std::size_t n, const uint64_t* ranks, std::size_t k, float* out,
                       std::vector<float>& tmp) {
  if (k == 0 || n == 0) return;
  if (n > kMaxPartitioned) {  // the scratch stays bounded: the library's introselect, in place
    for (std::size_t j = 0; j < k; ++j) {
      std::nth_element(v + (j > 0 ? ranks[j - 1] + 1 : 0), v + ranks[j], v + n);
      out[j] = v[ranks[j]];
    }
    return;
  }
  const std::size_t part = n + kSlack;
  if (tmp.size() < 3 * part) tmp.resize(3 * part);
  PartitionFn fn = partition_generic;
#if ISC_X86_PATHS
  if (path == kPathAvx512) fn = partition_avx512;
  if (path == kPathAvx2) fn = partition_avx2;
#endif
  (void)path;
  int log2n = 0;
  while ((std::size_t(1) << log2n) < n) ++log2n;
  select_in(Ctx{v, ranks, out, tmp.data(), tmp.data() + part, tmp.data() + 2 * part, fn}, 0, n, 0, k, 2 * log2n + 8);
}

void select_small(float* v, std::size_t n, const uint64_t* ranks, std::size_t k, float* out, std::vector<float>& tmp) {
  static const int path = best_path();
  select_small_path(path, v, n, ranks, k, out, tmp);
}

}  // namespace isc
