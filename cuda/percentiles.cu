// percentiles.cu — exact order statistics by radix selection on order-preserving 32-bit keys: the
// statistics pass already counted the top byte; one block per (trial, quantity) then narrows each
// wanted rank by one byte per pass over the data (3 passes), with no copy of the values.
#include <cmath>
#include <stdexcept>

#include "cuda/check.h"
#include "cuda/percentiles.h"
#include "kernels/percentile.h"
#include "kernels/radix_select.cuh"

namespace isc::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kGroup = 8;  // rank slots narrowed together (shared histograms of 256 bins each)

__device__ __forceinline__ bool finite(float x) { return isfinite(x); }

__global__ void __launch_bounds__(kThreads) select_kernel(StatsLaunch a) {
  __shared__ unsigned s_count[kGroup][256];
  __shared__ uint32_t s_prefix[kGroup];
  __shared__ uint64_t s_rank[kGroup];  // rank among the values that share the prefix
  __shared__ int s_row[kGroup];        // the first slot with the same prefix (whose counts it uses)

  const int t = blockIdx.x / a.nq, k = blockIdx.x % a.nq;
  const std::size_t o = (std::size_t(t) * a.sink.layers + a.layer) * kQuantities + a.target[k].q;
  const Moments m = a.sink.moments[o];
  const uint64_t n = static_cast<uint64_t>(m.n);
  if (n == 0 || !(m.max > m.min)) return;  // no finite value, or all equal: the host takes min
  const float* x = a.target[k].x + uint64_t(t) * a.per;
  const unsigned long long* top = a.digits + (std::size_t(t) * a.nq + k) * 256;
  const int slots = 2 * a.sink.n_percentiles;

  for (int g0 = 0; g0 < slots; g0 += kGroup) {
    const int G = slots - g0 < kGroup ? slots - g0 : kGroup;
    if (threadIdx.x < G) {  // pass 0 from the top-byte counts of the fused pass
      const int slot = g0 + int(threadIdx.x);
      const uint64_t r = percentile_rank(a.sink.percentiles[slot / 2], n, slot % 2);
      uint64_t before = 0;
      s_prefix[threadIdx.x] = radix_find_digit(top, r, &before);
      s_rank[threadIdx.x] = r - before;
    }
    for (int pass = 1; pass < 4; ++pass) {
      __syncthreads();
      if (threadIdx.x < G) {
        int row = int(threadIdx.x);
        for (int k = 0; k < int(threadIdx.x); ++k)
          if (s_prefix[k] == s_prefix[threadIdx.x]) {
            row = k;
            break;
          }
        s_row[threadIdx.x] = row;
      }
      for (int i = threadIdx.x; i < G * 256; i += kThreads) (&s_count[0][0])[i] = 0;
      __syncthreads();
      for (uint64_t i = threadIdx.x; i < a.per; i += kThreads) {
        const float v = x[i];
        if (!finite(v)) continue;
        const uint32_t key = radix_key(v);
        const uint32_t hi = radix_prefix(key, pass), d = radix_digit(key, pass);
        for (int k = 0; k < G; ++k)
          if (s_row[k] == k && s_prefix[k] == hi) atomicAdd(&s_count[k][d], 1u);
      }
      __syncthreads();
      if (threadIdx.x < G) {
        uint64_t before = 0;
        const uint32_t d = radix_find_digit(s_count[s_row[threadIdx.x]], s_rank[threadIdx.x], &before);
        s_prefix[threadIdx.x] = (s_prefix[threadIdx.x] << 8) | d;
        s_rank[threadIdx.x] -= before;
      }
    }
    __syncthreads();
    if (threadIdx.x < G) a.sink.selected[o * slots + g0 + threadIdx.x] = radix_value(s_prefix[threadIdx.x]);
    __syncthreads();  // s_prefix is rewritten by the next group
  }
}

}  // namespace

void launch_select(const StatsLaunch& a, cudaStream_t stream) {
  if (a.trials <= 0 || a.per == 0 || a.sink.n_percentiles <= 0) return;
  if (a.per > 0xffffffffull)
    throw std::runtime_error("CUDA backend: percentiles of more than 2^32 values per trial and layer");
  if (a.nq < 1 || a.nq > 2) throw std::logic_error("launch_select: 1 or 2 quantities per launch");
  const unsigned long long blocks = static_cast<unsigned long long>(a.nq) * unsigned(a.trials);
  select_kernel<<<unsigned(blocks), kThreads, 0, stream>>>(a);
  ISC_CUDA_CHECK_LAUNCH("select_kernel");
}

}  // namespace isc::cuda
