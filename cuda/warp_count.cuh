// warp_count.cuh — warp-aggregated histogram increments: lanes hitting the same bin add once.
#pragma once

namespace isc::cuda {

// Adds 1 to hist[bin] for every lane of the warp with bin >= 0 (bin < 0: nothing). All 32 lanes
// must call it together (blocks are whole warps and every lane runs the same loop trips). Lanes
// that share a bin are counted by one atomic of their leader: much less contention on the few
// hot bins of concentrated data (relu zeros, tanh near 0).
template <class Count>
__device__ __forceinline__ void warp_count(Count* hist, int bin) {
  const unsigned peers = __match_any_sync(0xffffffffu, bin);
  const int leader = __ffs(peers) - 1;
  if (bin >= 0 && int(threadIdx.x & 31u) == leader) atomicAdd(hist + bin, Count(__popc(peers)));
}

}  // namespace isc::cuda
