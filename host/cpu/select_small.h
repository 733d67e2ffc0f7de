// select_small.h — exact order statistics of an array in memory: quickselect with branchless three-way partitions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace isc {

// out[j] = the value of rank ranks[j] (0-based; ranks sorted, each < n) among v[0..n), for j < k;
// v holds no NaN and is permuted. Each pass moves the range's values below, at and above a pivot
// (median of three) with no data-dependent branch (copies to `tmp`, resized to 3 n + 48), and keeps the
// parts that hold a wanted rank; a rank among the pivot's equals is the value in its place. The same values as
// std::nth_element rank by rank, several times faster on the arrays of small networks (the
// branch mispredictions of its partition were most of their statistics' time); past
// 2 log2(n) + 8 passes, and for arrays of more than 2^18 values (so that `tmp` stays within 3 MiB),
// std::nth_element does the work.
void select_small(float* v, std::size_t n, const uint64_t* ranks, std::size_t k, float* out, std::vector<float>& tmp);

// The same with the partitions of one instruction-set path (kPathAvx512, kPathAvx2 or the generic loop), for tests.
void select_small_path(int path, float* v, std::size_t n, const uint64_t* ranks, std::size_t k, float* out,
                       std::vector<float>& tmp);

}  // namespace isc
