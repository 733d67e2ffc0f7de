// cpu_kernels.h — the CPU backend's hot loops (weight/input draws, bias + activation), built for
// several x86-64 levels (target_clones) so that they vectorize on any machine.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/activations.h"
#include "kernels/histogram.h"
#include "kernels/init.h"
#include "kernels/moments.h"

namespace isc {

// out[e] for e in [0, n): element e of the stream (seed, subsequence) under draw d — exactly
// what draw4() gives for block e / 4, lane e % 4.
// Picks the widest instruction-set path this CPU runs (below).
void cpu_fill_draws(const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out, std::size_t n);

// Instruction-set paths of the draws, for tests that run each one the machine supports.
constexpr int kPathGeneric = 0, kPathAvx2 = 1, kPathAvx512 = 2;
std::vector<int> cpu_draw_paths();  // the paths this CPU can run, generic first
void cpu_fill_draws_path(int path, const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out,
                         std::size_t n);
// Philox4x32-10 blocks block0 .. block0 + 15 of (seed, subsequence) on one path: out[word][block].
void cpu_philox16(int path, uint64_t seed, uint64_t subsequence, uint64_t block0, uint32_t out[4][16]);

// s[i] += bias; h[i] = f(s[i]).
void cpu_bias_activate(float* s, float* h, std::size_t n, float bias, const ActivationSpec& a);

// slots[i] = hist_slot_finite(b, x[i]) for finite x (the caller checks finiteness).
void cpu_hist_slots(const float* x, std::size_t n, const Binner& b, int32_t* slots);

// keys[i] = slot * sub + j for finite x[i]: the histogram slot of x[i] (as cpu_hist_slots) refined
// into `sub` parts per bin (sub a power of two) by a monotone map (under/overflow slots stay whole), so that keys are
// non-decreasing in x: the histogram pass also counts what exact selection needs.
void cpu_hist_keys(const float* x, std::size_t n, const Binner& b, int sub, int32_t* keys);

// The key of one value (as cpu_hist_keys).
int32_t cpu_hist_key(const Binner& b, int sub, float x);

// Copies the x[i] inside any of the half-open ranges [lo[j], hi[j]), j < k, into out (in index
// order, at most `cap` of them); returns how many there are. NaN is never inside.
std::size_t cpu_gather_ranges(const float* x, std::size_t n, const float* lo, const float* hi, int k, float* out,
                              std::size_t cap);

// idx[i] = bin of x[i] among `bins` equal bins of [lo, lo + bins/scale] (clamped), or `bins`
// for values outside [lo, hi] and NaN: the internal binning of percentile selection.
void cpu_fine_bins(const float* x, std::size_t n, float lo, float hi, float scale, int bins, int32_t* idx);

// Moments of finite values x[0..n) with 32 interleaved double accumulators (a fixed order: the
// same result whether or not the compiler vectorizes).
Moments cpu_block_moments(const float* x, std::size_t n);

// g[i] *= f'(s[i]).
void cpu_mul_activation_derivative(float* g, const float* s, std::size_t n, const ActivationSpec& a);

// For each threshold c[j], j < k: lt[j] = #(x[i] < c[j]), le[j] = #(x[i] <= c[j]) (NaN counts in
// neither), all in one pass over x per 8 thresholds.
void cpu_count_lt_le(const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le);

// The scans on one instruction-set path (kPathAvx512 or the generic loops), for tests.
std::size_t cpu_gather_ranges_path(int path, const float* x, std::size_t n, const float* lo, const float* hi, int k,
                                   float* out, std::size_t cap);
Moments cpu_block_moments_path(int path, const float* x, std::size_t n);
void cpu_count_lt_le_path(int path, const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le);

// Dot products of two float rows in double: *ab = sum a b, *aa = sum a^2, *bb = sum b^2 (8 lanes
// summed in a fixed order).
void cpu_dot3(const float* a, const float* b, std::size_t n, double* ab, double* aa, double* bb);

// Number of x[i] that saturated(a, x[i]) accepts.
uint64_t cpu_count_saturated(const float* x, std::size_t n, const ActivationSpec& a);

}  // namespace isc
