// targets.h — the output layer's target classes (both backends): random classes from the trial's
// target stream, and the teacher's argmax.
#pragma once
#include "rng.h"

namespace isc {

// Target class of sample i of trial `trial`, as a float: lane i % 4 of Philox block i / 4 of the
// trial's target stream, floor(bits * classes / 2^32).
ISC_HD float random_target(uint64_t seed, uint64_t trial, uint64_t i, int classes) {
  const U32x4 blk = philox_block(seed, target_subsequence(trial), i / 4);
  return static_cast<float>(random_class(lane(blk, unsigned(i % 4)), classes));
}

// Index of the first largest of row[0..classes) (a later element wins only when `best < it`, as
// std::max_element), NaN included.
ISC_HD int argmax_first(const float* row, int classes) {
  int best = 0;
  for (int k = 1; k < classes; ++k)
    if (row[best] < row[k]) best = k;
  return best;
}

}  // namespace isc
