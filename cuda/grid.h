// grid.h — the launch shape of the element kernels: 256 threads per block, enough blocks for one
// element per thread (at most 2^30), grid-stride loops with 64-bit indices.
#pragma once
#include <algorithm>
#include <cstdint>

namespace isc::cuda {

constexpr int kThreads = 256;

inline unsigned grid_for(uint64_t n) {
  const uint64_t blocks = (n + kThreads - 1) / kThreads;
  return unsigned(std::min<uint64_t>(std::max<uint64_t>(blocks, 1), uint64_t(1) << 30));
}

#ifdef __CUDACC__
__device__ __forceinline__ uint64_t first_index() { return uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ uint64_t grid_stride() { return uint64_t(gridDim.x) * blockDim.x; }
#endif

}  // namespace isc::cuda
