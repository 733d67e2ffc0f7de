// slot_table.h — histogram slots of symmetric-log bins by a search among the bins' edges in float order, exact (as
// cpu_hist_slots).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/histogram.h"

namespace isc {

// Why a search can be exact: the slot of a finite x under symmetric-log bins,
// hist_slot_finite(symlog(x)), is non-decreasing in x. symlog is madd_rn (monotone), det_log
// (monotone on [1, inf): checked over every float there by a test) and a product by a positive
// constant (monotone), mirrored for x < 0; hist_slot_finite is non-decreasing in its argument. So
// the slot of x is the number of i >= 1 whose edge t[i] — the least finite float, in the order of
// float_order(x) (float_order.h), with slot >= i — is <= ord(x). The table holds those edges, found
// once per binner by bisection over the floats with the exact function, and a vectorized binary
// search (7 steps, each a lookup in registers) bins a value without evaluating the logarithm.
struct SlotTable {
  static constexpr int kMaxSlots = 127;  // bins + 1 at most (the search counts up to 127)
  Binner b;
  // level[k][j] = the edge compared at step k (steps of 64, 32, ..., 1) when the count so far is
  // j * 2 * step: t[j * 2 * step + step] (t[i] for i > bins + 1 is beyond every finite float).
  uint32_t level[7][64];
  // Where no two edges share a range of ord values with the same top direct_bits bits (11 or 12;
  // 0: they do, and the search runs): per such range k, direct[k] = (the number of edges below the
  // range) << 25 | (the low 32 - direct_bits bits of the edge inside it, or 2^(32 - direct_bits)
  // where there is none). A value's slot is then one lookup and one compare, without the search.
  int direct_bits = 0;
  uint32_t direct[1 << 12];
};

// Whether a table serves b: symmetric-log bins with at most kMaxSlots - 1 bins.
bool slot_table_applies(const Binner& b);

// The table of b (slot_table_applies(b)), built on first use and kept per thread for the last few
// binners.
std::shared_ptr<const SlotTable> slot_table(const Binner& b);

// slots[i] = hist_slot_finite(b, symlog(x[i])) for finite x (as cpu_hist_slots), via the table t
// of b: the search or the direct lookup with AVX-512; elsewhere the direct lookup one value at a
// time where the table has it, else cpu_hist_slots.
void cpu_hist_slots_table(const float* x, std::size_t n, const SlotTable& t, int32_t* slots);

// The same on one instruction-set path (kPathAvx512 or the generic loop), for tests.
void cpu_hist_slots_table_path(int path, const float* x, std::size_t n, const SlotTable& t, int32_t* slots);

}  // namespace isc
