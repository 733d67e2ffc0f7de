// pairs.cu — correlated input pairs: the mixing of the inputs (mix_pair, kernels/inputs.h) and the
// per-trial mean cosine similarity of the pairs' pre-activations.
#include <cmath>

#include "cuda/check.h"
#include "cuda/pairs.h"
#include "kernels/inputs.h"

namespace isc::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__global__ void mix_pairs_kernel(float* x, int trials, int samples, int width, float rho, float rest) {
  const uint64_t pairs = uint64_t(samples / 2), per_trial = pairs * uint64_t(width);
  const uint64_t n = per_trial * uint64_t(trials);
  for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += uint64_t(gridDim.x) * blockDim.x) {
    const uint64_t t = i / per_trial, r = i % per_trial, k = r / uint64_t(width), j = r % uint64_t(width);
    float* a = x + (t * uint64_t(samples) + 2 * k) * uint64_t(width) + j;  // sample 2k, unit j
    float* b = a + width;                                                  // sample 2k + 1
    *b = mix_pair(*a, *b, rho, rest);
  }
}

__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;  // the same butterfly on every lane: every lane holds the same bits
}

// One block per trial; warp w takes pairs w, w + kWarps, ... and sums their cosines in that order;
// the warps' sums are then added in warp order.
__global__ void __launch_bounds__(kThreads)
    pair_corr_kernel(const float* s, int samples, int width, double* out, std::size_t out_stride) {
  __shared__ double s_sum[kWarps];
  const int t = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int pairs = samples / 2;
  const float* base = s + uint64_t(t) * uint64_t(samples) * uint64_t(width);
  double corr = 0.0;
  for (int k = warp; k < pairs; k += kWarps) {
    const float* a = base + uint64_t(2 * k) * uint64_t(width);
    const float* b = a + width;
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int j = lane; j < width; j += 32) {
      const double x = a[j], y = b[j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    ab = warp_sum(ab);
    aa = warp_sum(aa);
    bb = warp_sum(bb);
    corr += pair_cosine_of(ab, aa, bb);
  }
  if (lane == 0) s_sum[warp] = corr;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int w = 0; w < kWarps; ++w) total += s_sum[w];
    out[uint64_t(t) * out_stride] = mean_pair_cosine(total, pairs);
  }
}

}  // namespace

void launch_mix_pairs(float* x, int trials, int samples, int width, float rho, float rest, cudaStream_t stream) {
  const uint64_t n = uint64_t(trials) * uint64_t(samples / 2) * uint64_t(width);
  if (n == 0) return;
  const uint64_t blocks = (n + kThreads - 1) / kThreads;
  mix_pairs_kernel<<<unsigned(blocks < (1u << 30) ? blocks : (1u << 30)), kThreads, 0, stream>>>(x, trials, samples,
                                                                                                 width, rho, rest);
  ISC_CUDA_CHECK_LAUNCH("mix_pairs_kernel");
}

void launch_pair_corr(const float* s, int trials, int samples, int width, double* out, std::size_t out_stride,
                      cudaStream_t stream) {
  if (trials <= 0) return;
  pair_corr_kernel<<<unsigned(trials), kThreads, 0, stream>>>(s, samples, width, out, out_stride);
  ISC_CUDA_CHECK_LAUNCH("pair_corr_kernel");
}

}  // namespace isc::cuda
