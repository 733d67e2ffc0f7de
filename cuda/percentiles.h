// percentiles.h — launcher of exact percentile selection (radix select) after one statistics launch.
#pragma once
#include <cuda_runtime_api.h>

#include "cuda/stats_launch.h"

namespace isc::cuda {

// For each (trial, quantity k < l.nq) with finite values and max > min, and each percentile p_i,
// selects the exact order statistics of the finite values of l.target[k].x at the ranks
// percentile_rank(p_i, n, 0) (slot 2i) and percentile_rank(p_i, n, 1) (slot 2i + 1) of
// kernels/percentile.h into l.sink.selected (ChunkStats::order). It starts from the moments
// (counts n) and top-byte radix counts (l.digits) that the statistics launch just queued. The host
// interpolates (assemble_trial_stats). Other (trial, quantity) pairs are left alone.
void launch_select(const StatsLaunch& l, cudaStream_t stream);

}  // namespace isc::cuda
