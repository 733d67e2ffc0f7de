// percentiles.h — launcher of exact percentile selection (radix select) for one layer of a chunk.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "../kernels/moments.h"

namespace isc::cuda {

// For each (trial, quantity) with finite values and max > min, and each percentile p_i, selects
// the exact order statistics of the finite values at ranks r0 = floor(p_i / 100 * (n - 1)) (slot
// 2i) and min(r0 + 1, n - 1) (slot 2i + 1), ranks as the CPU computes them. The host interpolates
// (cuda/chunk_results.cpp), as compute_stats does. Other (trial, quantity) pairs are left alone.
struct SelectArgs {
  const float* s = nullptr;  // pre-activations (bias added), trials x per
  const float* h = nullptr;  // activations
  int trials = 0;
  uint64_t per = 0;
  int layer = 0, layers = 0;
  const Moments* moments = nullptr;            // [o], o = (trial * layers + layer) * 2 + q: the counts n
  const unsigned long long* digits = nullptr;  // [(trial * 2 + q) * 256] from the fused pass
  const double* percentiles = nullptr;         // device copy of StatsSpec::percentiles
  int n_percentiles = 0;
  float* selected = nullptr;                   // [o * 2 * n_percentiles + slot]
};

void launch_select(const SelectArgs& a, cudaStream_t stream);

}  // namespace isc::cuda
