// layer_stats.h — launchers of the fused "element operation + statistics" passes over a chunk.
#pragma once
#include <cuda_runtime_api.h>

#include "cuda/stats_launch.h"

namespace isc::cuda {

// The forward element operation: s += bias (per unit with random biases), h = f(s).
struct BiasActivation {
  float* s = nullptr;  // pre-activations, trials x per: bias added in place
  float* h = nullptr;  // activations, written
  float bias = 0.0f;
  // Random biases (chunk.bias_std > 0): unit j of trial t adds unit_bias[t * width + j] by
  // add_unit_bias (kernels/inputs.h), then + 0.0f; nullptr: every unit adds `bias`.
  const float* unit_bias = nullptr;
  int width = 0;
  ActivationSpec act{};
};

// Each launcher queues on `stream`: the fused pass (one block per (trial, tile); no block spans two
// trials; per-tile moments, counts, histograms, top-byte radix counts), then the merge of the tiles
// of each (trial, quantity) in tile order (deterministic) into l.sink. Percentiles: launch_select.

// op, then statistics of s (target[0]) and h (target[1]); l.nq must be 2.
void launch_bias_activation_stats(const BiasActivation& op, const StatsLaunch& l, cudaStream_t stream);
// g <- grad_times_derivative(act, g, s) in place (kernels/activations.h), then statistics of g
// (target[0]; l.nq must be 1).
void launch_grad_activation_stats(float* g, const float* s, const ActivationSpec& act, const StatsLaunch& l,
                                  cudaStream_t stream);
// Statistics of target[0].x itself (l.nq must be 1).
void launch_array_stats(const StatsLaunch& l, cudaStream_t stream);

}  // namespace isc::cuda
