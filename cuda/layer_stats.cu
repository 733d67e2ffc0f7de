// layer_stats.cu — one layer's fused pass: s += bias, h = f(s), and per (trial, quantity) the
// moments, min/max, NaN/Inf/saturation counts, histogram and top-byte radix histogram, then a
// fixed-order merge of the per-tile moments.
#include <cub/block/block_reduce.cuh>

#include <stdexcept>
#include <string>

#include "../kernels/activations.h"
#include "../kernels/histogram.h"
#include "../kernels/moments.h"
#include "../kernels/radix_select.cuh"
#include "check.h"
#include "layer_stats.h"
#include "warp_count.cuh"

namespace isc::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kItems = kTileElems / kThreads;  // values per thread and tile
static_assert(kItems * kThreads == kTileElems, "tile = threads x items");
// Both quantities' histograms in shared memory up to this many slots (40 KiB), global atomics beyond.
constexpr int kSharedSlots = 10240;

// Pass-one partial of one quantity in one thread, then in the block.
struct Part {
  double sum = 0.0;
  float min = INFINITY, max = -INFINITY;
  unsigned n = 0, nan = 0, inf = 0, saturated = 0;
};
struct Part2 {
  Part q[2];
};
struct Part2Sum {
  __device__ Part2 operator()(const Part2& a, const Part2& b) const {
    Part2 r;
    for (int q = 0; q < 2; ++q) {
      r.q[q].sum = a.q[q].sum + b.q[q].sum;
      r.q[q].min = b.q[q].min < a.q[q].min ? b.q[q].min : a.q[q].min;
      r.q[q].max = b.q[q].max > a.q[q].max ? b.q[q].max : a.q[q].max;
      r.q[q].n = a.q[q].n + b.q[q].n;
      r.q[q].nan = a.q[q].nan + b.q[q].nan;
      r.q[q].inf = a.q[q].inf + b.q[q].inf;
      r.q[q].saturated = a.q[q].saturated + b.q[q].saturated;
    }
    return r;
  }
};
struct Sq2 {
  double m2[2];
};
struct Sq2Sum {
  __device__ Sq2 operator()(const Sq2& a, const Sq2& b) const { return Sq2{{a.m2[0] + b.m2[0], a.m2[1] + b.m2[1]}}; }
};

__device__ __forceinline__ bool finite(float x) { return isfinite(x); }  // false for NaN and +-Inf

// Everything pass one records about one value x of a quantity (ok: x exists; lanes past the end of
// the data still take part in the warp-wide counting with "no bin").
template <class Count>
__device__ __forceinline__ void observe(Part& p, bool ok, float x, const Binner& b, Count* hist, unsigned* digits,
                                        bool count_saturation, const ActivationSpec& act) {
  const bool fin = ok && finite(x);
  if (ok && !fin) {
    if (x != x) ++p.nan;
    else ++p.inf;
  }
  if (fin) {
    ++p.n;
    p.sum += double(x);
    p.min = x < p.min ? x : p.min;
    p.max = x > p.max ? x : p.max;
    if (count_saturation && saturated(act, x)) ++p.saturated;
  }
  warp_count(hist, ok ? hist_slot(b, x) : -1);  // NaN: -1; +-Inf in the under/overflow slots
  warp_count(digits, fin ? int(radix_digit(radix_key(x), 0)) : -1);
}

template <bool kSharedHist>
__global__ void __launch_bounds__(kThreads) layer_stats_kernel(LayerStatsArgs a, int tiles, Binner b0, Binner b1) {
  using Reduce1 = cub::BlockReduce<Part2, kThreads>;
  using Reduce2 = cub::BlockReduce<Sq2, kThreads>;
  extern __shared__ unsigned s_hist[];  // [slots0 + slots1] when kSharedHist
  __shared__ unsigned s_digits[2][256];
  __shared__ union {
    typename Reduce1::TempStorage r1;
    typename Reduce2::TempStorage r2;
  } s_tmp;
  __shared__ double s_mean[2];

  const int t = blockIdx.x / tiles, tile = blockIdx.x % tiles;
  const int slots0 = b0.bins + 2, slots = slots0 + b1.bins + 2;
  for (int i = threadIdx.x; i < 2 * 256; i += kThreads) (&s_digits[0][0])[i] = 0;
  if (kSharedHist)
    for (int i = threadIdx.x; i < slots; i += kThreads) s_hist[i] = 0;
  __syncthreads();

  const uint64_t base = uint64_t(t) * a.per;
  const uint64_t start = uint64_t(tile) * kTileElems;
  const std::size_t hist_base = (std::size_t(t) * a.layers + a.layer) * std::size_t(slots);
  const ActivationSpec act = a.act;
  const bool sat = a.count_saturation;

  Part2 p;
  for (int k = 0; k < kItems; ++k) {
    const uint64_t i = start + uint64_t(k) * kThreads + threadIdx.x;
    const bool ok = i < a.per;
    float sv = 0.0f, hv = 0.0f;
    if (ok) {
      if (a.unit_bias) {
        const float b = add_rn(a.bias, a.unit_bias[uint64_t(t) * a.width + uint32_t(i) % uint32_t(a.width)]);
        sv = add_rn(add_rn(a.s[base + i], b), 0.0f);
      } else {
        sv = add_rn(a.s[base + i], a.bias);
      }
      hv = activate(act, sv);
      a.s[base + i] = sv;
      a.h[base + i] = hv;
    }
    if (kSharedHist) {
      observe(p.q[0], ok, sv, b0, s_hist, s_digits[0], false, act);
      observe(p.q[1], ok, hv, b1, s_hist + slots0, s_digits[1], sat, act);
    } else {
      observe(p.q[0], ok, sv, b0, a.hist + hist_base, s_digits[0], false, act);
      observe(p.q[1], ok, hv, b1, a.hist + hist_base + slots0, s_digits[1], sat, act);
    }
  }
  const Part2 tot = Reduce1(s_tmp.r1).Reduce(p, Part2Sum());
  if (threadIdx.x == 0)
    for (int q = 0; q < 2; ++q) s_mean[q] = tot.q[q].n ? tot.q[q].sum / double(tot.q[q].n) : 0.0;
  __syncthreads();  // s_mean visible; s_tmp free for reuse

  // Pass two over the same tile (this thread's own values, now in L2): sum of squared deviations.
  const double mean0 = s_mean[0], mean1 = s_mean[1];
  Sq2 sq{{0.0, 0.0}};
  for (int k = 0; k < kItems; ++k) {
    const uint64_t i = start + uint64_t(k) * kThreads + threadIdx.x;
    if (i >= a.per) break;
    const float sv = a.s[base + i], hv = a.h[base + i];
    if (finite(sv)) sq.m2[0] += (double(sv) - mean0) * (double(sv) - mean0);
    if (finite(hv)) sq.m2[1] += (double(hv) - mean1) * (double(hv) - mean1);
  }
  const Sq2 m2 = Reduce2(s_tmp.r2).Reduce(sq, Sq2Sum());
  if (threadIdx.x == 0) {
    for (int q = 0; q < 2; ++q) {
      TilePartial out;
      out.m.n = double(tot.q[q].n);
      out.m.mean = s_mean[q];
      out.m.m2 = tot.q[q].n ? m2.m2[q] : 0.0;
      out.m.min = tot.q[q].min;
      out.m.max = tot.q[q].max;
      out.nan = tot.q[q].nan;
      out.inf = tot.q[q].inf;
      out.saturated = tot.q[q].saturated;
      a.partials[(std::size_t(t) * tiles + tile) * 2 + q] = out;
    }
  }
  __syncthreads();  // every shared count is in
  if (kSharedHist)
    for (int i = threadIdx.x; i < slots; i += kThreads)
      if (s_hist[i]) atomicAdd(a.hist + hist_base + i, static_cast<unsigned long long>(s_hist[i]));
  for (int i = threadIdx.x; i < 2 * 256; i += kThreads) {
    const unsigned c = (&s_digits[0][0])[i];
    if (c) atomicAdd(a.digits + std::size_t(t) * 512 + i, static_cast<unsigned long long>(c));
  }
}

// One thread per (trial, quantity): merges the tiles in tile order (Chan's formula, kernels/moments.h).
__global__ void merge_tiles_kernel(LayerStatsArgs a, int tiles) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 2 * a.trials) return;
  const int t = i / 2, q = i % 2;
  Moments m;
  unsigned long long nan = 0, inf = 0, sat = 0;
  for (int j = 0; j < tiles; ++j) {
    const TilePartial& p = a.partials[(std::size_t(t) * tiles + j) * 2 + q];
    merge(m, p.m);
    nan += p.nan;
    inf += p.inf;
    sat += p.saturated;
  }
  const std::size_t o = (std::size_t(t) * a.layers + a.layer) * 2 + q;
  a.moments[o] = m;
  a.counts[o * 3 + 0] = nan;
  a.counts[o * 3 + 1] = inf;
  a.counts[o * 3 + 2] = sat;
}

}  // namespace

void launch_layer_stats(const LayerStatsArgs& a, cudaStream_t stream) {
  if (a.trials <= 0 || a.per == 0) return;
  if (a.per > 0xffffffffull)
    throw std::runtime_error("CUDA backend: more than 2^32 values per trial in one layer (samples x width)");
  const int tiles = layer_tiles(a.per);
  const unsigned long long blocks = static_cast<unsigned long long>(a.trials) * tiles;
  if (blocks > 0x7fffffffull)
    throw std::runtime_error("CUDA backend: " + std::to_string(blocks) + " tiles in one layer of a chunk (at most 2^31-1)");
  const Binner b0 = make_binner(a.range[0]), b1 = make_binner(a.range[1]);
  const int slots = b0.bins + b1.bins + 4;
  ISC_CUDA_CHECK(cudaMemsetAsync(a.digits, 0, std::size_t(a.trials) * 512 * sizeof(unsigned long long), stream));
  if (slots <= kSharedSlots) {
    layer_stats_kernel<true><<<unsigned(blocks), kThreads, std::size_t(slots) * sizeof(unsigned), stream>>>(a, tiles, b0, b1);
  } else {
    layer_stats_kernel<false><<<unsigned(blocks), kThreads, 0, stream>>>(a, tiles, b0, b1);
  }
  ISC_CUDA_CHECK_LAUNCH("layer_stats_kernel");
  const int pairs = 2 * a.trials;
  merge_tiles_kernel<<<(pairs + 127) / 128, 128, 0, stream>>>(a, tiles);
  ISC_CUDA_CHECK_LAUNCH("merge_tiles_kernel");
}

}  // namespace isc::cuda
