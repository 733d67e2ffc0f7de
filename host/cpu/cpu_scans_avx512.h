// cpu_scans_avx512.h — AVX-512 forms of cpu_block_moments, cpu_gather_ranges and cpu_count_lt_le
// (x86-64 with GCC only; cpu_kernels.cpp picks them at run time when the CPU has AVX-512).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/moments.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ISC_SCANS_AVX512 1
namespace isc {
// gather_ranges_avx512 takes at most 4 ranges.
std::size_t gather_ranges_avx512(const float* x, std::size_t n, const float* lo, const float* hi, int k, float* out,
                                 std::size_t cap);
Moments block_moments_avx512(const float* x, std::size_t n);
void count_lt_le_avx512(const float* x, std::size_t n, const float* c, int k, uint64_t* lt, uint64_t* le);
}  // namespace isc
#else
#define ISC_SCANS_AVX512 0
#endif
