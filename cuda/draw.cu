// draw.cu — the fused draw kernel: one thread per Philox block (4 elements) of one trial, the
// scale applied in place; cuRAND's Philox4x32-10 with the shared transforms of kernels/init.h.
#include "cuda/draw_block.cuh"  // first: it includes curand_kernel.h

#include <algorithm>

#include "cuda/check.h"
#include "cuda/draw.h"
#include "kernels/init.h"

namespace isc::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) draws_kernel(float* out, LayerDraw d, uint64_t seed, uint64_t first_trial,
                                                         DrawStream which, int layer, int trials, uint64_t per) {
  const uint64_t blocks = (per + 3) / 4;
  const uint64_t stride = uint64_t(gridDim.x) * blockDim.x;
  for (int t = blockIdx.y; t < trials; t += gridDim.y) {
    const uint64_t trial = first_trial + uint64_t(t);
    const uint64_t sub = which == DrawStream::Input     ? input_subsequence(trial)
                         : which == DrawStream::Weights ? weight_subsequence(trial, layer)
                         : which == DrawStream::Bias    ? bias_subsequence(trial, layer)
                                                        : teacher_subsequence();
    float* o = out + uint64_t(t) * per;
    const bool vec = (per % 4 == 0) && (reinterpret_cast<uintptr_t>(o) % 16 == 0);
    for (uint64_t b = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks; b += stride) {
      float v[4];
      draw_block(d, seed, sub, b, v);
      const uint64_t e = 4 * b;
      if (vec) {
        reinterpret_cast<float4*>(o)[b] = make_float4(v[0], v[1], v[2], v[3]);
      } else {
        const int n = per - e < 4 ? int(per - e) : 4;  // the tail when per is not a multiple of 4
        for (int i = 0; i < n; ++i) o[e + i] = v[i];
      }
    }
  }
}

}  // namespace

void launch_draws(float* out, const LayerDraw& d, uint64_t seed, uint64_t first_trial, DrawStream which, int layer,
                  int trials, std::size_t per, cudaStream_t stream) {
  if (trials <= 0 || per == 0) return;
  const uint64_t blocks = (uint64_t(per) + 3) / 4;
  const uint64_t gx = std::min<uint64_t>((blocks + kThreads - 1) / kThreads, 1u << 30);
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(std::min(trials, 65535)));
  draws_kernel<<<grid, kThreads, 0, stream>>>(out, d, seed, first_trial, which, layer, trials, per);
  ISC_CUDA_CHECK_LAUNCH("draws_kernel");
}

}  // namespace isc::cuda
