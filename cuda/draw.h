// draw.h — launcher of the fused draw kernel: weights or inputs of every trial of a chunk.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/init.h"

namespace isc::cuda {

// Which stream of a trial a draw reads (kernels/rng.h): its input batch, layer l's weights, or
// layer l's random biases; or the teacher's weights (teacher_subsequence(), the same for every trial).
enum class DrawStream : int { Input = 0, Weights = 1, Bias = 2, Teacher = 3 };

// out[t * per + e] = element e of trial (first_trial + t)'s stream `which` (layer `layer`) under
// draw d, for t < trials, e < per: kernels/init.h draw4, as the CPU's cpu_fill_draws.
void launch_draws(float* out, const LayerDraw& d, uint64_t seed, uint64_t first_trial, DrawStream which, int layer,
                  int trials, std::size_t per, cudaStream_t stream);

}  // namespace isc::cuda
