// layer_stats.cu — the fused "element operation + statistics" pass: per (trial, quantity) moments,
// min/max, NaN/Inf and counted-predicate counts (kernels/counted.h), histogram and top-byte radix counts of one or two
// arrays as an operation writes them (forward bias + activation, backward g * f'(s), or plain reads), then a
// fixed-order merge of the per-tile moments.
#include <cub/block/block_reduce.cuh>

#include <stdexcept>
#include <string>

#include "cuda/check.h"
#include "cuda/layer_stats.h"
#include "cuda/warp_count.cuh"
#include "kernels/activations.h"
#include "kernels/counted.h"
#include "kernels/histogram.h"
#include "kernels/inputs.h"
#include "kernels/moments.h"
#include "kernels/radix_select.cuh"

namespace isc::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kItems = kTileElems / kThreads;  // values per thread and tile
static_assert(kItems * kThreads == kTileElems, "tile = threads x items");
// The launch's histograms in shared memory up to this many slots (40 KiB), global atomics beyond.
constexpr int kSharedSlots = 10240;

// Pass-one partial of one quantity in one thread, then in the block.
struct Part {
  double sum = 0.0;
  float min = INFINITY, max = -INFINITY;
  unsigned n = 0, nan = 0, inf = 0;
  unsigned counted[kCounted] = {};
};
template <int NQ>
struct Parts {
  Part q[NQ];
};
template <int NQ>
struct PartsSum {
  __device__ Parts<NQ> operator()(const Parts<NQ>& a, const Parts<NQ>& b) const {
    Parts<NQ> r;
    for (int q = 0; q < NQ; ++q) {
      r.q[q].sum = a.q[q].sum + b.q[q].sum;
      r.q[q].min = b.q[q].min < a.q[q].min ? b.q[q].min : a.q[q].min;
      r.q[q].max = b.q[q].max > a.q[q].max ? b.q[q].max : a.q[q].max;
      r.q[q].n = a.q[q].n + b.q[q].n;
      r.q[q].nan = a.q[q].nan + b.q[q].nan;
      r.q[q].inf = a.q[q].inf + b.q[q].inf;
      for (int c = 0; c < kCounted; ++c) r.q[q].counted[c] = a.q[q].counted[c] + b.q[q].counted[c];
    }
    return r;
  }
};
template <int NQ>
struct Sqs {
  double m2[NQ];
};
template <int NQ>
struct SqsSum {
  __device__ Sqs<NQ> operator()(const Sqs<NQ>& a, const Sqs<NQ>& b) const {
    Sqs<NQ> r;
    for (int q = 0; q < NQ; ++q) r.m2[q] = a.m2[q] + b.m2[q];
    return r;
  }
};

__device__ __forceinline__ bool finite(float x) { return isfinite(x); }  // false for NaN and +-Inf

// The element operations: (trial t, element i of per, base = t * per) -> the NQ measured values,
// written back where the statistics read them again.
struct BiasActivationOp {
  BiasActivation a;
  static constexpr int kQ = 2;
  __device__ __forceinline__ void operator()(uint64_t t, uint64_t i, uint64_t base, float v[2]) const {
    float sv;
    if (a.unit_bias) {
      // The unit's bias, then bias + activation with a zero common bias (+ 0.0f: -0 becomes +0).
      const float draw = a.unit_bias[t * uint64_t(a.width) + uint32_t(i) % uint32_t(a.width)];
      sv = add_rn(add_unit_bias(a.s[base + i], a.bias, draw), 0.0f);
    } else {
      sv = add_rn(a.s[base + i], a.bias);
    }
    const float hv = activate(a.act, sv);
    a.s[base + i] = sv;
    a.h[base + i] = hv;
    v[0] = sv;
    v[1] = hv;
  }
};
struct GradActivationOp {
  float* g;
  const float* s;
  ActivationSpec act;
  static constexpr int kQ = 1;
  __device__ __forceinline__ void operator()(uint64_t, uint64_t i, uint64_t base, float v[1]) const {
    const float d = grad_times_derivative(act, g[base + i], s[base + i]);
    g[base + i] = d;
    v[0] = d;
  }
};
struct ReadOp {
  const float* x;
  static constexpr int kQ = 1;
  __device__ __forceinline__ void operator()(uint64_t, uint64_t i, uint64_t base, float v[1]) const {
    v[0] = x[base + i];
  }
};

// Everything pass one records about one value x of a quantity (ok: x exists; lanes past the end of
// the data still take part in the warp-wide counting with "no bin").
template <class Count>
__device__ __forceinline__ void observe(Part& p, bool ok, float x, const Binner& b, Count* hist, unsigned* digits,
                                        unsigned counted, const ActivationSpec& act) {
  const bool fin = ok && finite(x);
  if (ok && !fin) {
    if (x != x)
      ++p.nan;
    else
      ++p.inf;
  }
  if (fin) {
    ++p.n;
    p.sum += double(x);
    p.min = x < p.min ? x : p.min;
    p.max = x > p.max ? x : p.max;
    if (counted) {
      const unsigned bits = counted_bits(act, x) & counted;
      for (int c = 0; c < kCounted; ++c) p.counted[c] += (bits >> c) & 1u;
    }
  }
  warp_count(hist, ok ? hist_slot(b, x) : -1);  // NaN: -1; +-Inf in the under/overflow slots
  warp_count(digits, fin ? int(radix_digit(radix_key(x), 0)) : -1);
}

// The binners and where each quantity's histogram starts (shared memory and global).
template <int NQ>
struct Bins {
  Binner b[NQ];
  int shared_off[NQ];  // offset in the block's shared histogram
  int slots = 0;       // shared slots in all
};

template <class Op, bool kSharedHist>
__global__ void __launch_bounds__(kThreads) stats_kernel(Op op, StatsLaunch l, int tiles, Bins<Op::kQ> bins) {
  constexpr int NQ = Op::kQ;
  using Reduce1 = cub::BlockReduce<Parts<NQ>, kThreads>;
  using Reduce2 = cub::BlockReduce<Sqs<NQ>, kThreads>;
  extern __shared__ unsigned s_hist[];  // [bins.slots] when kSharedHist
  __shared__ unsigned s_digits[NQ][256];
  __shared__ union {
    typename Reduce1::TempStorage r1;
    typename Reduce2::TempStorage r2;
  } s_tmp;
  __shared__ double s_mean[NQ];

  const int t = blockIdx.x / tiles, tile = blockIdx.x % tiles;
  for (int i = threadIdx.x; i < NQ * 256; i += kThreads) (&s_digits[0][0])[i] = 0;
  if (kSharedHist)
    for (int i = threadIdx.x; i < bins.slots; i += kThreads) s_hist[i] = 0;
  __syncthreads();

  const uint64_t base = uint64_t(t) * l.per;
  const uint64_t start = uint64_t(tile) * kTileElems;
  const uint64_t tl = uint64_t(t) * uint64_t(l.sink.layers) + uint64_t(l.layer);
  unsigned long long* ghist[NQ];
  for (int k = 0; k < NQ; ++k) ghist[k] = l.sink.hist + tl * l.sink.hist_stride + l.sink.hist_offset[l.target[k].q];

  Parts<NQ> p;
  for (int it = 0; it < kItems; ++it) {
    const uint64_t i = start + uint64_t(it) * kThreads + threadIdx.x;
    const bool ok = i < l.per;
    float v[NQ];
    for (int k = 0; k < NQ; ++k) v[k] = 0.0f;
    if (ok) op(uint64_t(t), i, base, v);
    for (int k = 0; k < NQ; ++k) {
      if (kSharedHist) {
        observe(p.q[k], ok, v[k], bins.b[k], s_hist + bins.shared_off[k], s_digits[k], l.target[k].counted, l.act);
      } else {
        observe(p.q[k], ok, v[k], bins.b[k], ghist[k], s_digits[k], l.target[k].counted, l.act);
      }
    }
  }
  const Parts<NQ> tot = Reduce1(s_tmp.r1).Reduce(p, PartsSum<NQ>());
  if (threadIdx.x == 0)
    for (int k = 0; k < NQ; ++k) s_mean[k] = tot.q[k].n ? tot.q[k].sum / double(tot.q[k].n) : 0.0;
  __syncthreads();  // s_mean visible; s_tmp free for reuse

  // Pass two over the same tile (this thread's own values, now in L2): sum of squared deviations.
  Sqs<NQ> sq;
  for (int k = 0; k < NQ; ++k) sq.m2[k] = 0.0;
  for (int it = 0; it < kItems; ++it) {
    const uint64_t i = start + uint64_t(it) * kThreads + threadIdx.x;
    if (i >= l.per) break;
    for (int k = 0; k < NQ; ++k) {
      const float x = l.target[k].x[base + i];
      if (finite(x)) sq.m2[k] += (double(x) - s_mean[k]) * (double(x) - s_mean[k]);
    }
  }
  const Sqs<NQ> m2 = Reduce2(s_tmp.r2).Reduce(sq, SqsSum<NQ>());
  if (threadIdx.x == 0) {
    for (int k = 0; k < NQ; ++k) {
      TilePartial out;
      out.m.n = double(tot.q[k].n);
      out.m.mean = s_mean[k];
      out.m.m2 = tot.q[k].n ? m2.m2[k] : 0.0;
      out.m.min = tot.q[k].min;
      out.m.max = tot.q[k].max;
      out.nan = tot.q[k].nan;
      out.inf = tot.q[k].inf;
      for (int c = 0; c < kCounted; ++c) out.counted[c] = tot.q[k].counted[c];
      l.partials[(std::size_t(t) * tiles + tile) * NQ + k] = out;
    }
  }
  __syncthreads();  // every shared count is in
  if (kSharedHist)
    for (int k = 0; k < NQ; ++k)
      for (int i = threadIdx.x; i < bins.b[k].bins + 2; i += kThreads) {
        const unsigned c = s_hist[bins.shared_off[k] + i];
        if (c) atomicAdd(ghist[k] + i, static_cast<unsigned long long>(c));
      }
  for (int i = threadIdx.x; i < NQ * 256; i += kThreads) {
    const unsigned c = (&s_digits[0][0])[i];
    if (c) atomicAdd(l.digits + std::size_t(t) * NQ * 256 + i, static_cast<unsigned long long>(c));
  }
}

// One thread per (trial, quantity): merges the tiles in tile order (Chan's formula, kernels/moments.h).
__global__ void merge_tiles_kernel(StatsLaunch l, int tiles) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= l.nq * l.trials) return;
  const int t = i / l.nq, k = i % l.nq;
  Moments m;
  unsigned long long nan = 0, inf = 0, counted[kCounted] = {};
  for (int j = 0; j < tiles; ++j) {
    const TilePartial& p = l.partials[(std::size_t(t) * tiles + j) * l.nq + k];
    merge(m, p.m);
    nan += p.nan;
    inf += p.inf;
    for (int c = 0; c < kCounted; ++c) counted[c] += p.counted[c];
  }
  const std::size_t o = (std::size_t(t) * l.sink.layers + l.layer) * kQuantities + l.target[k].q;
  l.sink.moments[o] = m;
  l.sink.counts[o * ChunkStats::kCounts + ChunkStats::kNan] = nan;
  l.sink.counts[o * ChunkStats::kCounts + ChunkStats::kInf] = inf;
  for (int c = 0; c < kCounted; ++c)
    l.sink.counts[o * ChunkStats::kCounts + ChunkStats::kFirstCounted + c] = counted[c];
}

template <class Op>
void launch(const Op& op, const StatsLaunch& l, cudaStream_t stream) {
  constexpr int NQ = Op::kQ;
  if (l.nq != NQ) throw std::logic_error("CUDA statistics: launch with the wrong number of quantities");
  if (l.trials <= 0 || l.per == 0) return;
  if (l.per > 0xffffffffull)
    throw std::runtime_error("CUDA backend: more than 2^32 values per trial in one statistics pass");
  if (l.layer < 0 || l.layer >= l.sink.layers) throw std::out_of_range("CUDA statistics: layer out of range");
  const int tiles = layer_tiles(l.per);
  const unsigned long long blocks = static_cast<unsigned long long>(l.trials) * tiles;
  if (blocks > 0x7fffffffull)
    throw std::runtime_error("CUDA backend: " + std::to_string(blocks) +
                             " tiles in one statistics pass (at most 2^31-1)");
  Bins<NQ> bins;
  for (int k = 0; k < NQ; ++k) {
    if (l.target[k].q < 0 || l.target[k].q >= kQuantities) throw std::out_of_range("CUDA statistics: bad quantity");
    bins.b[k] = make_binner(l.target[k].range);
    bins.shared_off[k] = bins.slots;
    bins.slots += bins.b[k].bins + 2;
  }
  ISC_CUDA_CHECK(cudaMemsetAsync(l.digits, 0, std::size_t(l.trials) * NQ * 256 * sizeof(unsigned long long), stream));
  if (bins.slots <= kSharedSlots) {
    stats_kernel<Op, true>
        <<<unsigned(blocks), kThreads, std::size_t(bins.slots) * sizeof(unsigned), stream>>>(op, l, tiles, bins);
  } else {
    stats_kernel<Op, false><<<unsigned(blocks), kThreads, 0, stream>>>(op, l, tiles, bins);
  }
  ISC_CUDA_CHECK_LAUNCH("stats_kernel");
  const int n = NQ * l.trials;
  merge_tiles_kernel<<<(n + 127) / 128, 128, 0, stream>>>(l, tiles);
  ISC_CUDA_CHECK_LAUNCH("merge_tiles_kernel");
}

}  // namespace

void launch_bias_activation_stats(const BiasActivation& op, const StatsLaunch& l, cudaStream_t stream) {
  StatsLaunch m = l;  // pass two re-reads what the operation wrote
  m.target[0].x = op.s;
  m.target[1].x = op.h;
  launch(BiasActivationOp{op}, m, stream);
}

void launch_grad_activation_stats(float* g, const float* s, const ActivationSpec& act, const StatsLaunch& l,
                                  cudaStream_t stream) {
  StatsLaunch m = l;
  m.target[0].x = g;
  launch(GradActivationOp{g, s, act}, m, stream);
}

void launch_array_stats(const StatsLaunch& l, cudaStream_t stream) { launch(ReadOp{l.target[0].x}, l, stream); }

}  // namespace isc::cuda
