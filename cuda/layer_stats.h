// layer_stats.h — launcher of one layer's fused bias + activation + statistics pass over a chunk.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "../kernels/activations.h"
#include "../kernels/histogram.h"
#include "../kernels/moments.h"

namespace isc::cuda {

// One block's share (a tile of kTileElems consecutive values of one trial) of one quantity.
struct TilePartial {
  Moments m;  // of the finite values, two-pass within the tile
  unsigned nan = 0, inf = 0, saturated = 0, unused = 0;
};

constexpr int kTileElems = 4096;
inline int layer_tiles(uint64_t per) { return static_cast<int>((per + kTileElems - 1) / kTileElems); }

// Chunk-wide statistics arrays, indexed by o = (trial * layers + layer) * 2 + q (q = 0
// pre-activation, 1 activation), and the top-byte radix histogram the percentile selection
// starts from.
struct LayerStatsArgs {
  float* s = nullptr;  // pre-activations, trials x per: bias added in place
  float* h = nullptr;  // activations, written
  int trials = 0;
  uint64_t per = 0;    // samples x width
  float bias = 0.0f;
  // Random biases (chunk.bias_std > 0): unit j of trial t adds add_rn(bias, unit_bias[t * width + j])
  // (then + 0.0f, as the CPU's two steps); nullptr: every unit adds `bias`.
  const float* unit_bias = nullptr;
  int width = 0;
  ActivationSpec act{};
  bool count_saturation = false;
  HistRange range[2];
  int layer = 0, layers = 0;
  Moments* moments = nullptr;            // [o]
  unsigned long long* counts = nullptr;  // [o * 3 + {0 nan, 1 inf, 2 saturated}]
  unsigned long long* hist = nullptr;    // [(trial * layers + layer) * (slots0 + slots1) + (q ? slots0 : 0) + slot]
  TilePartial* partials = nullptr;       // scratch [(trial * tiles + tile) * 2 + q]
  unsigned long long* digits = nullptr;  // scratch [(trial * 2 + q) * 256], zeroed by the launcher
};

// Queues on `stream`: the fused pass (one block per (trial, tile); no block spans two trials),
// then the merge of the tiles of each (trial, quantity) in tile order (deterministic).
void launch_layer_stats(const LayerStatsArgs& a, cudaStream_t stream);

}  // namespace isc::cuda
