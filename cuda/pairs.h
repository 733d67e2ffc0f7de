// pairs.h — launchers for correlated input pairs (2k, 2k+1): mixing the inputs, and the measured
// c-map (mean cosine similarity of the pairs' pre-activation vectors).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace isc::cuda {

// x_{2k+1} <- rho x_{2k} + rest x_{2k+1} for every pair of samples of every trial (x is trials x
// samples x width), rest = pair_rest(rho): mix_pair of kernels/inputs.h.
void launch_mix_pairs(float* x, int trials, int samples, int width, float rho, float rest, cudaStream_t stream);

// out[t * out_stride] = mean over pairs k of cos(s_{2k}, s_{2k+1}) (0 for a pair with a zero or
// non-finite norm), NaN with fewer than 2 samples; s is trials x samples x width. Sums in double
// in a fixed order (deterministic; not the CPU's order, so equal to about 1e-15).
void launch_pair_corr(const float* s, int trials, int samples, int width, double* out, std::size_t out_stride,
                      cudaStream_t stream);

}  // namespace isc::cuda
