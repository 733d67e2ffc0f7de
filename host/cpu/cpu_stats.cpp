// cpu_stats.cpp — moments, counts, histograms and exact percentiles of one array (CPU reference).
#include "host/cpu/cpu_stats.h"

#include "kernels/inputs.h"
#include "kernels/percentile.h"
#include "kernels/rng.h"

#include "host/cpu/activation_loops.h"
#include "host/cpu/float_order.h"
#include "host/cpu/hist_keys.h"
#include "host/cpu/scans.h"
#include "host/cpu/select_small.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <numeric>

namespace isc {

namespace {
constexpr int kFineBins = 4096;
constexpr std::size_t kBlock = kStatsBlock;

// Where sorted 0-based ranks fall in counts over ordered buckets [0, nbins): the buckets holding a
// rank (increasing), where each one's values go once gathered bucket by bucket ([offset[k],
// offset[k+1])), and per rank its bucket's index (-1 beyond the total) and the count before it.
struct RankBuckets {
  std::vector<std::size_t> buckets, offset;
  std::vector<int> rank_bucket;
  std::vector<uint64_t> rank_before;
};

RankBuckets locate_ranks(const std::vector<uint32_t>& counts, std::size_t nbins, const std::vector<uint64_t>& ranks) {
  RankBuckets rb;
  rb.rank_bucket.assign(ranks.size(), -1);
  rb.rank_before.assign(ranks.size(), 0);
  rb.offset.push_back(0);
  uint64_t acc = 0;
  std::size_t r = 0;
  for (std::size_t b = 0; b < nbins && r < ranks.size(); ++b) {
    while (r < ranks.size() && ranks[r] < acc + counts[b]) {
      if (rb.buckets.empty() || rb.buckets.back() != b) {
        rb.buckets.push_back(b);
        rb.offset.push_back(rb.offset.back() + counts[b]);
      }
      rb.rank_bucket[r] = static_cast<int>(rb.buckets.size()) - 1;
      rb.rank_before[r] = acc;
      ++r;
    }
    acc += counts[b];
  }
  return rb;
}

// Scratch of select_small, kept per thread.
std::vector<float>& select_tmp() {
  thread_local std::vector<float> tmp;
  return tmp;
}

// The ranks' values once `sorted` holds each located bucket's values contiguously (rb.offset);
// a rank beyond the counts gets `beyond`. Ranks sorted: each bucket's run of ranks at once.
std::vector<float> select_in_buckets(std::vector<float>& sorted, const RankBuckets& rb,
                                     const std::vector<uint64_t>& ranks, float beyond) {
  std::vector<float> out(ranks.size(), beyond);
  std::vector<uint64_t> local;
  for (std::size_t j = 0; j < ranks.size();) {
    std::size_t e = j + 1;
    while (e < ranks.size() && rb.rank_bucket[e] == rb.rank_bucket[j]) ++e;
    if (rb.rank_bucket[j] >= 0) {
      const std::size_t k = static_cast<std::size_t>(rb.rank_bucket[j]);
      local.clear();
      for (std::size_t i = j; i < e; ++i) local.push_back(ranks[i] - rb.rank_before[i]);
      select_small(sorted.data() + rb.offset[k], rb.offset[k + 1] - rb.offset[k], local.data(), local.size(),
                   out.data() + j, select_tmp());
    }
    j = e;
  }
  return out;
}
}  // namespace

std::vector<float> select_ranks(const float* x, std::size_t n, float min, float max, const std::vector<uint64_t>& ranks,
                                std::vector<float>& scratch) {
  if (ranks.empty() || !(max > min)) return std::vector<float>(ranks.size(), min);  // all finite values equal
  const double sc = double(kFineBins) / (double(max) - double(min));
  const float scale = std::isfinite(float(sc)) ? float(sc) : 0.0f;
  // Internal binning (slot kFineBins collects NaN/Inf); only its consistency between the two
  // passes matters.
  std::vector<uint32_t> counts(kFineBins + 1, 0);
  int32_t idx[kBlock];
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t len = std::min(kBlock, n - start);
    cpu_fine_bins(x + start, len, min, max, scale, kFineBins, idx);
    for (std::size_t i = 0; i < len; ++i) ++counts[static_cast<std::size_t>(idx[i])];
  }
  // Gather the values of the buckets holding a rank, bucket-contiguous in `scratch`.
  const RankBuckets rb = locate_ranks(counts, kFineBins, ranks);
  std::vector<int> bucket_of_bin(kFineBins + 1, -1);
  for (std::size_t k = 0; k < rb.buckets.size(); ++k) bucket_of_bin[rb.buckets[k]] = static_cast<int>(k);
  scratch.resize(rb.offset.back());
  std::vector<std::size_t> fill(rb.offset.begin(), rb.offset.end() - 1);
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t len = std::min(kBlock, n - start);
    cpu_fine_bins(x + start, len, min, max, scale, kFineBins, idx);
    for (std::size_t i = 0; i < len; ++i) {
      const int bk = bucket_of_bin[static_cast<std::size_t>(idx[i])];
      if (bk >= 0) scratch[fill[static_cast<std::size_t>(bk)]++] = x[start + i];
    }
  }
  return select_in_buckets(scratch, rb, ranks, max);  // beyond the finite count: max
}

namespace {

constexpr int kSub = 64;  // parts per histogram slot in the keyed counts
// Up to this many values, order statistics come from the finite values themselves, partitioned
// rank by rank (nth_element), with no histogram pass and no keyed counts.
constexpr std::size_t kDirectSelect = 4096;

// The smallest finite float whose key is >= k (keys are non-decreasing in x for linear bins), or
// +inf when there is none: found by bisection over the ordered floats.
float first_with_key(const Binner& b, int32_t k) {
  uint32_t lo = float_order(-FLT_MAX), hi = float_order(FLT_MAX) + 1;  // answer in [lo, hi]; hi means none
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (cpu_hist_key(b, kSub, float_of_order(mid)) >= k)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo == float_order(FLT_MAX) + 1 ? INFINITY : float_of_order(lo);
}

// Exact order statistics from the keyed counts of the histogram pass (cpu_hist_keys; finite values
// only; linear bins, where keys are non-decreasing in x): locate each rank's key; a key is the
// range [first_with_key(k), first_with_key(k + 1)) of values, so one pass of range tests gathers
// the values with wanted keys; select within each key. Returns false, leaving the work to
// select_ranks, when the wanted keys hold too many values (values piled into one part, or ranks in
// the unbounded under/overflow slots) or the gather disagrees with the counts.
bool select_keyed(const float* x, std::size_t n, const Binner& b, const std::vector<uint32_t>& kc,
                  const std::vector<uint64_t>& ranks, std::vector<float>& scratch, std::vector<float>* out) {
  const RankBuckets rb = locate_ranks(kc, kc.size(), ranks);
  for (int k : rb.rank_bucket)
    if (k < 0) return false;  // counts and ranks disagree: leave it to select_ranks
  const uint64_t gathered = rb.offset.back();
  if (gathered > std::max<uint64_t>(4096, n / 16)) return false;
  // Value ranges of the wanted keys, neighbours merged.
  std::vector<float> lo, hi;
  for (std::size_t k : rb.buckets) {
    const float a = first_with_key(b, static_cast<int32_t>(k)), e = first_with_key(b, static_cast<int32_t>(k + 1));
    if (!hi.empty() && hi.back() == a) {
      hi.back() = e;
    } else {
      lo.push_back(a);
      hi.push_back(e);
    }
  }
  std::vector<float> vals(gathered);
  if (cpu_gather_ranges(x, n, lo.data(), hi.data(), static_cast<int>(lo.size()), vals.data(), gathered) != gathered)
    return false;
  // Counting sort by key into scratch: each wanted key's values contiguous.
  std::vector<std::size_t> fill(rb.offset.begin(), rb.offset.end() - 1);
  scratch.resize(gathered);
  for (float v : vals) {
    const std::size_t key = static_cast<std::size_t>(cpu_hist_key(b, kSub, v));
    const std::size_t k =
        static_cast<std::size_t>(std::lower_bound(rb.buckets.begin(), rb.buckets.end(), key) - rb.buckets.begin());
    if (k == rb.buckets.size() || rb.buckets[k] != key || fill[k] == rb.offset[k + 1]) return false;
    scratch[fill[k]++] = v;
  }
  *out = select_in_buckets(scratch, rb, ranks, 0.0f);
  return true;
}

}  // namespace

namespace {
std::vector<float> select_direct(const float* x, std::size_t n, const std::vector<uint64_t>& ranks,
                                 std::vector<float>& scratch) {
  scratch.clear();
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i])) scratch.push_back(x[i]);
  std::vector<float> out(ranks.size());
  select_small(scratch.data(), scratch.size(), ranks.data(), ranks.size(), out.data(), select_tmp());
  return out;
}
}  // namespace

double pair_cosine(const float* a, const float* b, int width) {
  double ab = 0, aa = 0, bb = 0;
  cpu_dot3(a, b, static_cast<std::size_t>(width), &ab, &aa, &bb);
  return pair_cosine_of(ab, aa, bb);
}

double pair_correlation(const float* s, int samples, int width) {
  double corr = 0;
  int pairs = 0;
  for (int k = 0; k + 1 < samples; k += 2, ++pairs) {
    const float* a = s + static_cast<std::size_t>(k) * width;
    corr += pair_cosine(a, a + width, width);
  }
  return mean_pair_cosine(corr, pairs);
}

StatsAccumulator::StatsAccumulator(const HistRange& range, const std::vector<double>& percentiles, std::size_t n,
                                   const Counting& counting, ChunkStats::Cell out, bool selects_own)
    : b_(make_binner(range)),
      counting_(counting),
      out_(out),
      n_(n),
      percentiles_(percentiles),
      selects_own_(selects_own) {
  nslots_ = static_cast<std::size_t>(range.bins) + 2;
  *out_.m = Moments{};
  for (int k = 0; k < ChunkStats::kCounts; ++k) out_.counts[k] = 0;
  std::fill(out_.hist, out_.hist + nslots_, uint64_t(0));
  // Percentiles selected here (not via the monotone map): the histogram pass counts keys, each
  // slot cut into kSub parts (32-bit counts, so below 2^32 values), and the histogram is their sum.
  // Small arrays select directly instead (finish(), kDirectSelect), and so do arrays with fewer
  // values than a sixteenth of the keys: scanning the keys would cost more than sorting the values.
  keyed_ = selects_own && !percentiles.empty() && range.linthresh <= 0.0f && n < (uint64_t(1) << 32) &&
           nslots_ * kSub < (std::size_t(1) << 31) && n > kDirectSelect && n >= nslots_ * kSub / 16;
  kc_.assign(keyed_ ? nslots_ * kSub : 0, 0);
  // Otherwise four interleaved copies of the histogram: consecutive values often fall into the
  // same bin, and one copy would serialize on that counter.
  h4_.assign(keyed_ ? 0 : 4 * nslots_, 0);
  if (!keyed_ && n >= 1024 && slot_table_applies(b_)) table_ = slot_table(b_);
}

namespace {
// How wide a bracket is: this many standard errors of a sample
// quantile on each side (plus two sample ranks). A rank then falls outside its bracket about once
// in 4,000 arrays per bracket side (a normal tail; sampling by strata only narrows it), and
// select_ranks runs for that array.
constexpr double kBracketSigmas = 3.5;
}  // namespace

void StatsAccumulator::bracket(const float* x, std::vector<float>& buffer) {
  bracketed_ = false;
  // Only where finish() would otherwise run select_ranks: its own percentiles, not keyed, not small.
  if (keyed_ || !selects_own_ || percentiles_.empty() || n_ <= kDirectSelect) return;
  // One value from each of m equal strata of the array, at a fixed pseudo-random place in it
  // (strata rather than a stride, so that the rows of a matrix are not picked in step).
  const std::size_t m = std::min(kBracketSamples, n_ / 8);
  std::vector<float> sample;
  sample.reserve(m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t a = k * n_ / m, e = (k + 1) * n_ / m;
    const float v = x[a + static_cast<std::size_t>(mix64(k) % (e - a))];  // kernels/rng.h
    if (std::isfinite(v)) sample.push_back(v);
  }
  if (sample.size() < m / 2) return;  // mostly NaN or Inf: leave it to select_ranks
  const double ms = double(sample.size());
  // Per percentile the sample ranks of its bracket (-1 or ms: unbounded), then their values, each
  // partition narrowing the next.
  struct Span {
    long lo, hi;  // sample ranks
  };
  std::vector<Span> spans;
  std::vector<long> at;
  for (double pct : percentiles_) {
    const double q = pct / 100.0, d = kBracketSigmas * std::sqrt(q * (1.0 - q) / ms) + 2.0 / ms;
    const double rl = std::floor((q - d) * (ms - 1.0)), rh = std::ceil((q + d) * (ms - 1.0));
    const Span s{rl < 0.0 ? -1 : long(rl), rh > ms - 1.0 ? long(ms) : long(rh)};
    spans.push_back(s);
    if (s.lo >= 0) at.push_back(s.lo);
    if (s.hi < long(ms)) at.push_back(s.hi);
  }
  std::sort(at.begin(), at.end());
  at.erase(std::unique(at.begin(), at.end()), at.end());
  auto from = sample.begin();
  for (long r : at) {
    std::nth_element(from, sample.begin() + r, sample.end());
    from = sample.begin() + r + 1;  // r itself stays put only outside the next partition
  }
  auto value = [&](long r, float beyond) { return r < 0 || r >= long(ms) ? beyond : sample[std::size_t(r)]; };
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  Brackets& br = br_;
  br = Brackets{};
  for (const Span& s : spans) {
    // Half-open [lo, the float after hi); overlapping brackets merged.
    const float lo = value(s.lo, -INFINITY), hi = value(s.hi, INFINITY);
    const float top = hi == INFINITY ? INFINITY : std::nextafter(hi, INFINITY);
    if (!br.hi.empty() && lo < br.hi.back()) {
      br.hi.back() = std::max(br.hi.back(), top);
    } else {
      br.lo.push_back(lo);
      br.hi.push_back(top);
    }
  }
  // Room for twice the values the sample puts inside each bracket (ties can put many there).
  const std::size_t k = br.lo.size();
  br.below.assign(k, 0);
  br.seen.assign(k, 0);
  std::size_t total = 0;
  for (std::size_t j = 0; j < k; ++j) {
    const float lo = br.lo[j], hi = br.hi[j];
    const auto inside = std::count_if(sample.begin(), sample.end(), [&](float v) { return v >= lo && v < hi; });
    const double want = 2.0 * double(inside) / ms * double(n_) + 4096.0;
    br.base.push_back(total);
    br.cap.push_back(std::min(n_, static_cast<std::size_t>(want)));
    total += br.cap.back();
  }
  // No more room than select_ranks could take (the whole array): past that, leave it to select_ranks.
  if (total > n_) return;
  if (buffer.size() < total) buffer.resize(total);
  br.buf = buffer.data();
  for (std::size_t j = 0; j < k; ++j) br.out.push_back(br.buf + br.base[j]);
  bracketed_ = true;
}

void StatsAccumulator::add(const float* x, std::size_t n) {
  float finite[kBlock];
  int32_t slots[kBlock];
  const std::size_t nslots = nslots_;
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t len = std::min(kBlock, n - start);
    const float* p = x + start;
    if (bracketed_) {  // the values below each bracket, and those inside, while the block is in cache
      Brackets& br = br_;
      cpu_bracket_scan(p, len, static_cast<int>(br.lo.size()), br.lo.data(), br.hi.data(), br.below.data(),
                       br.out.data(), br.cap.data(), br.seen.data());
    }
    // Moments first: in double, a block of finite floats cannot overflow, so a finite mean and
    // M2 mean no NaN or Inf in the block (the common case: vectorized loops).
    const Moments bm = cpu_block_moments(p, len);
    if (std::isfinite(bm.mean) && std::isfinite(bm.m2)) {
      if (keyed_) {
        cpu_hist_keys(p, len, b_, kSub, slots);
        for (std::size_t i = 0; i < len; ++i) ++kc_[static_cast<std::size_t>(slots[i])];
      } else {
        if (table_)
          cpu_hist_slots_table(p, len, *table_, slots);
        else
          cpu_hist_slots(p, len, b_, slots);
        std::size_t i = 0;
        for (; i + 4 <= len; i += 4) {
          ++h4_[static_cast<std::size_t>(slots[i])];
          ++h4_[nslots + static_cast<std::size_t>(slots[i + 1])];
          ++h4_[2 * nslots + static_cast<std::size_t>(slots[i + 2])];
          ++h4_[3 * nslots + static_cast<std::size_t>(slots[i + 3])];
        }
        for (; i < len; ++i) ++h4_[static_cast<std::size_t>(slots[i])];
      }
      merge(*out_.m, bm);
      cpu_count(p, len, counting_.act, counting_.mask, out_.counts + ChunkStats::kFirstCounted);
      continue;
    }
    std::size_t nf = 0;
    for (std::size_t i = 0; i < len; ++i) {
      const float v = p[i];
      const int sl = hist_slot(b_, v);
      if (sl < 0) {
        ++out_.counts[ChunkStats::kNan];
        continue;
      }
      if (std::isinf(v)) {
        ++out_.hist[static_cast<std::size_t>(sl)];
        ++out_.counts[ChunkStats::kInf];
        continue;
      }
      if (keyed_) {
        ++kc_[static_cast<std::size_t>(cpu_hist_key(b_, kSub, v))];
      } else {
        ++out_.hist[static_cast<std::size_t>(sl)];
      }
      finite[nf++] = v;
    }
    merge(*out_.m, cpu_block_moments(finite, nf));
    cpu_count(finite, nf, counting_.act, counting_.mask, out_.counts + ChunkStats::kFirstCounted);
  }
}

void StatsAccumulator::finish(const float* x, std::vector<float>& scratch, OrderStats* order, const OrderStats* from,
                              const ActivationSpec* f) {
  const std::size_t n = n_, nslots = nslots_;
  if (keyed_) {
    for (std::size_t k = 0; k < nslots; ++k)
      for (int j = 0; j < kSub; ++j) out_.hist[k] += kc_[k * kSub + static_cast<std::size_t>(j)];
  } else {
    for (std::size_t k = 0; k < nslots; ++k)
      out_.hist[k] += h4_[k] + h4_[nslots + k] + h4_[2 * nslots + k] + h4_[3 * nslots + k];
  }
  const std::vector<double>& percentiles = percentiles_;
  const Moments& m = *out_.m;
  const uint64_t nfin = static_cast<uint64_t>(m.n);
  if (percentiles.empty() || nfin == 0) return;
  // The rank slots of every percentile, sorted and unique.
  std::vector<uint64_t> ranks;
  for (double p : percentiles)
    for (int k = 0; k < 2; ++k) ranks.push_back(percentile_rank(p, nfin, k));
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::vector<float> vals;
  if (from && f && from->nfin == nfin && from->ranks == ranks && out_.counts[ChunkStats::kInf] == 0) {
    // Candidates through the monotone map, verified exactly (NaN never compares true).
    vals.resize(ranks.size());
    for (std::size_t j = 0; j < ranks.size(); ++j) vals[j] = activate(*f, from->vals[j]);
    std::vector<uint64_t> lt(ranks.size()), le(ranks.size());
    cpu_count_lt_le(x, n, vals.data(), static_cast<int>(vals.size()), lt.data(), le.data());
    bool exact = true;
    for (std::size_t j = 0; j < ranks.size(); ++j) exact = exact && lt[j] <= ranks[j] && ranks[j] < le[j];
    selected_ = exact ? Selected::Mapped : Selected::Fine;
    if (!exact) vals = select_ranks(x, n, m.min, m.max, ranks, scratch);
  } else if (n <= kDirectSelect) {
    selected_ = Selected::Direct;
    vals = select_direct(x, n, ranks, scratch);
  } else if (bracketed_ && scratch.data() == br_.buf && out_.counts[ChunkStats::kInf] == 0 &&
             select_bracketed(ranks, scratch, &vals)) {
    selected_ = Selected::Bracketed;
  } else if (keyed_ && select_keyed(x, n, b_, kc_, ranks, scratch, &vals)) {
    selected_ = Selected::Keyed;
  } else {
    selected_ = Selected::Fine;
    vals = select_ranks(x, n, m.min, m.max, ranks, scratch);
  }
  if (order) *order = OrderStats{nfin, ranks, vals};
  for (std::size_t i = 0; i < percentiles.size(); ++i)
    for (int k = 0; k < 2; ++k) {
      const uint64_t r = percentile_rank(percentiles[i], nfin, k);
      out_.order[2 * i + k] =
          vals[static_cast<std::size_t>(std::lower_bound(ranks.begin(), ranks.end(), r) - ranks.begin())];
    }
}

bool StatsAccumulator::select_bracketed(const std::vector<uint64_t>& ranks, std::vector<float>& gathered,
                                        std::vector<float>* out) {
  Brackets& br = br_;
  const std::size_t k = br.lo.size();
  for (std::size_t j = 0; j < k; ++j)
    if (br.seen[j] > br.cap[j]) return false;  // more values inside than there was room for
  // Rank r is inside bracket j when below[j] <= r < below[j] + seen[j]: the values of those ranks
  // are exactly the ones in [lo[j], hi[j]), in any order.
  std::vector<std::size_t> in(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    std::size_t j = 0;
    while (j < k && !(br.below[j] <= ranks[i] && ranks[i] < br.below[j] + br.seen[j])) ++j;
    if (j == k) return false;
    in[i] = j;
  }
  out->assign(ranks.size(), 0.0f);
  for (std::size_t j = 0; j < k; ++j) {
    std::vector<uint64_t> local;  // bracket j's ranks among its own values (sorted, as ranks are)
    for (std::size_t i = 0; i < ranks.size(); ++i)
      if (in[i] == j) local.push_back(ranks[i] - br.below[j]);
    if (local.empty()) continue;
    std::vector<float> got(local.size());
    select_small(gathered.data() + br.base[j], br.seen[j], local.data(), local.size(), got.data(), select_tmp());
    for (std::size_t i = 0, g = 0; i < ranks.size(); ++i)
      if (in[i] == j) (*out)[i] = got[g++];
  }
  return true;
}

void compute_stats(const float* x, std::size_t n, const HistRange& range, const std::vector<double>& percentiles,
                   const Counting& counting, TrialStats& out, std::vector<float>& scratch, OrderStats* order,
                   const OrderStats* from, const ActivationSpec* f) {
  Moments m;
  uint64_t counts[ChunkStats::kCounts];
  std::vector<uint64_t> hist(static_cast<std::size_t>(range.bins) + 2);
  std::vector<float> ord(2 * percentiles.size());
  StatsAccumulator acc(range, percentiles, n, counting, ChunkStats::Cell{&m, counts, hist.data(), ord.data()},
                       !(from && f));
  acc.bracket(x, scratch);
  acc.add(x, n);
  acc.finish(x, scratch, order, from, f);
  out = cell_stats(m, counts, hist.data(), hist.size(), ord.data(), percentiles, n);
}

}  // namespace isc
