// scans.h — the CPU's scans of float rows: block moments, range gather, threshold counts, dot products.
#pragma once
#include <cstddef>
#include <cstdint>

#include "host/cpu/isa.h"
#include "kernels/moments.h"

namespace isc {

// Moments of finite values x[0..n) with 32 interleaved double accumulators (a fixed order: the
// same result whether or not the compiler vectorizes).
Moments cpu_block_moments(const float* x, std::size_t n);

// Copies the x[i] inside any of the half-open ranges [lo[j], hi[j]), j < k, into out (in index
// order, at most `cap` of them); returns how many there are. NaN is never inside.
std::size_t cpu_gather_ranges(const float* x, std::size_t n, const float* lo, const float* hi, int k, float* out,
                              std::size_t cap);

// For each threshold c[j], j < k: lt[j] = #(x[i] < c[j]), le[j] = #(x[i] <= c[j]) (NaN counts in
// neither), all in one pass over x per 8 thresholds.
void cpu_count_lt_le(const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le);

// For each bracket [lo[j], hi[j]), j < k: below[j] += #(x[i] < lo[j]), and the x[i] inside it
// appended, in index order, to out[j] from position seen[j] on while fewer than cap[j] are there;
// seen[j] += how many are inside (kept or not). NaN is neither below nor inside.
void cpu_bracket_scan(const float* x, std::size_t n, int k, const float* lo, const float* hi, uint64_t* below,
                      float* const* out, const std::size_t* cap, std::size_t* seen);

// The scans on one instruction-set path (kPathAvx512, kPathAvx2 or the generic loops; a path without
// its own form of a scan runs the generic one), for tests.
std::size_t cpu_gather_ranges_path(int path, const float* x, std::size_t n, const float* lo, const float* hi, int k,
                                   float* out, std::size_t cap);
Moments cpu_block_moments_path(int path, const float* x, std::size_t n);
void cpu_bracket_scan_path(int path, const float* x, std::size_t n, int k, const float* lo, const float* hi,
                           uint64_t* below, float* const* out, const std::size_t* cap, std::size_t* seen);
void cpu_count_lt_le_path(int path, const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le);

// Dot products of two float rows in double: *ab = sum a b, *aa = sum a^2, *bb = sum b^2 (8 lanes
// summed in a fixed order).
void cpu_dot3(const float* a, const float* b, std::size_t n, double* ab, double* aa, double* bb);

}  // namespace isc
