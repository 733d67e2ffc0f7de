// aggregate.h — across-trial aggregates of per-trial statistics whose bits do not depend on how the
// trials were grouped (chunks, workers, shards, devices) or in which order they arrived.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

#include "kernels/moments.h"

namespace isc {

// Moments of `cells` values per trial over many trials, merged (Chan et al.) in a binary tree whose
// shape is fixed by the trial indices alone: trial t is leaf t, the aligned block
// [k 2^j, (k + 1) 2^j) is the merge of its two halves, left into right's place in that order, and
// the aggregate of a set of trials folds its maximal aligned blocks from left to right. Any grouping
// of the trials, in any order of arrival, builds the same blocks from the same halves, so the result
// is bit-identical; a sequential or chunk-wise merge would differ in the last bits with the grouping.
// A pairwise tree rather than an exact (reproducible) accumulator: it reuses the engine's mergeable
// moments, keeps pairwise summation's O(u log T) rounding, and holds O(log T) partial results per run
// of consecutive trials (trials added in order keep it at one run).
class TreeAggregate {
 public:
  explicit TreeAggregate(std::size_t cells = 0) : cells_(cells) {}
  std::size_t cells() const { return cells_; }

  // Adds trial `trial` (each trial once): values[c] for every cell; a non-finite value is left out
  // of its cell (a trial whose values were all NaN, say).
  void add(uint64_t trial, const double* values);
  // Folds in the aggregate of a disjoint set of trials (another worker's, shard's or device's).
  void absorb(const TreeAggregate& other);
  // Moments per cell over every trial added.
  std::vector<Moments> result() const;
  uint64_t trials() const { return trials_; }
  std::size_t blocks() const { return blocks_.size(); }  // partial results held

  // The partial results themselves (aligned blocks of trials), to keep on disk and fold in again:
  // insert() of every block of an aggregate rebuilds it bit for bit.
  struct Block {
    uint64_t first = 0, size = 0;
    std::vector<Moments> m;
  };
  template <class F>
  void each_block(F&& f) const {  // f(const Block&) in order, without copying them
    for (const auto& kv : blocks_) f(kv.second);
  }
  void insert(Block b);

 private:
  std::size_t cells_;
  uint64_t trials_ = 0;
  std::map<uint64_t, Block> blocks_;  // by first trial; disjoint, aligned
};

}  // namespace isc
