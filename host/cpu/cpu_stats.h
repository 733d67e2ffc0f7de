// cpu_stats.h — the CPU reference for every statistic of one array of values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/backend/chunk_stats.h"
#include "host/backend/stats.h"
#include "host/cpu/slot_table.h"
#include "kernels/activations.h"
#include "kernels/counted.h"

namespace isc {

// What to count beside NaN and Inf: the kernels/counted.h predicates in `mask`, under `act`.
struct Counting {
  ActivationSpec act{};
  unsigned mask = 0;
};
// The predicates that apply to quantity q under activation a (counted_mask).
inline Counting counting_for(Quantity q, const ActivationSpec& a) { return Counting{a, counted_mask(q, a)}; }

// The order statistics a compute_stats call selected: ranks (0-based, over finite values) and
// their values.
struct OrderStats {
  uint64_t nfin = 0;
  std::vector<uint64_t> ranks;
  std::vector<float> vals;
};

// Fills `out` with the moments, counts, histogram over `range` and the requested percentiles
// (linear interpolation between order statistics of the finite values, as numpy's default) of
// x[0..n): StatsAccumulator into one cell, then the engine's cell_stats, counting what `counting`
// asks for. `scratch` is reused between calls. `order`, if given, receives the order
// statistics used. `from`, if given, are the order statistics of a u with x = f(u) elementwise
// (f = `f`, monotone non-decreasing): the candidates f(u_(k)) are checked by counting
// (#(x < c) <= k < #(x <= c)) and used when they are exactly the k-th values of x, which saves the
// selection; otherwise x's own are selected.
void compute_stats(const float* x, std::size_t n, const HistRange& range, const std::vector<double>& percentiles,
                   const Counting& counting, TrialStats& out, std::vector<float>& scratch, OrderStats* order = nullptr,
                   const OrderStats* from = nullptr, const ActivationSpec* f = nullptr);

// The statistics of one array into one ChunkStats cell, in two steps, for callers that produce
// the values piece by piece and want each piece counted while it is still in cache: add() the n
// values in order, in pieces of a multiple of kStatsBlock values but the last (so that the blocks,
// and so the bits of the moments, are those of one call over the whole array), then finish() with
// the whole array for the order statistics of the percentiles.
constexpr std::size_t kStatsBlock = 4096;
// StatsAccumulator::bracket's sample: one value from each of min(kBracketSamples, n / 8) equal
// strata of the array, at place mix64(k) % (stratum size) in stratum k (kernels/rng.h).
constexpr std::size_t kBracketSamples = 4096;
class StatsAccumulator {
 public:
  // `selects_own` = false when finish() will get `from` and `f` (see compute_stats). The cell
  // starts from zero.
  StatsAccumulator(const HistRange& range, const std::vector<double>& percentiles, std::size_t n,
                   const Counting& counting, ChunkStats::Cell out, bool selects_own = true);
  // Optional, before the first add(), where the whole array is at hand: brackets each percentile
  // between two quantiles of a sample of x, so that add() counts the values below each bracket and
  // gathers those inside it (into `buffer`) while they are in cache, and finish(), given the same
  // buffer as scratch, selects inside the brackets. Exact: the counts say whether each rank is
  // inside its bracket; where one is not, finish() selects as without brackets. `buffer` grows to
  // at most n values (more would be needed: no brackets).
  void bracket(const float* x, std::vector<float>& buffer);
  void add(const float* x, std::size_t n);
  void finish(const float* x, std::vector<float>& scratch, OrderStats* order = nullptr,
              const OrderStats* from = nullptr, const ActivationSpec* f = nullptr);
  // How finish() found the order statistics (the values are the same whichever it was): through
  // the monotone map, directly (small arrays), inside the brackets, from the keyed counts, or by
  // select_ranks' fine histogram; None before finish() or without percentiles.
  enum class Selected { None, Mapped, Direct, Bracketed, Keyed, Fine };
  Selected selected() const { return selected_; }

 private:
  bool select_bracketed(const std::vector<uint64_t>& ranks, std::vector<float>& gathered, std::vector<float>* out);

  Binner b_;
  Counting counting_;
  ChunkStats::Cell out_;
  std::size_t n_ = 0;
  std::size_t nslots_ = 0;
  bool keyed_ = false;
  std::vector<uint32_t> kc_;  // keyed counts (slot * kSub + part)
  std::vector<uint64_t> h4_;  // four interleaved histograms (not keyed)
  std::vector<double> percentiles_;
  bool selects_own_ = true;
  std::shared_ptr<const SlotTable> table_;  // symmetric-log slots by table (not keyed)
  Selected selected_ = Selected::None;
  // bracket(): disjoint value ranges [lo[j], hi[j]) in increasing order; per range the count of
  // values below it and the values inside it, kept in buf[base[j], base[j] + cap[j]) (seen[j]
  // counts them all, kept or not).
  struct Brackets {
    std::vector<float> lo, hi;
    std::vector<uint64_t> below;
    std::vector<std::size_t> base, cap, seen;
    float* buf = nullptr;
    std::vector<float*> out;  // buf + base[j]
  };
  bool bracketed_ = false;
  Brackets br_;
};

// Exact order statistics of the finite values of x, for sorted 0-based ranks, in three steps:
// a fine histogram over [min, max] (one pass), a gather of the values whose fine bin holds a
// wanted rank (one pass), and a selection inside each small bucket.
std::vector<float> select_ranks(const float* x, std::size_t n, float min, float max, const std::vector<uint64_t>& ranks,
                                std::vector<float>& scratch);

// The cosine similarity of two rows of `width` values (0 when either is all zeros).
double pair_cosine(const float* a, const float* b, int width);

// The measured c-map of one trial: the mean over input pairs (2k, 2k+1) of the cosine similarity
// of their rows of s (samples x width); NaN with fewer than 2 samples.
double pair_correlation(const float* s, int samples, int width);

}  // namespace isc
