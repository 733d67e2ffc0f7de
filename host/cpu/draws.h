// draws.h — Philox4x32-10 in batches of 16 blocks and the weight/input draws, on three instruction-set paths.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/cpu/isa.h"
#include "kernels/init.h"

namespace isc {

// out[e] for e in [0, n): element e of the stream (seed, subsequence) under draw d — exactly
// what draw4() gives for block e / 4, lane e % 4.
// Picks the widest instruction-set path this CPU runs (isa.h).
void cpu_fill_draws(const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out, std::size_t n);

// The draws on one instruction-set path (kPath*, isa.h), for tests that run each one the machine supports
// (cpu_draw_paths()).
void cpu_fill_draws_path(int path, const LayerDraw& d, uint64_t seed, uint64_t subsequence, float* out, std::size_t n);
// Philox4x32-10 blocks block0 .. block0 + 15 of (seed, subsequence) on one path: out[word][block].
void cpu_philox16(int path, uint64_t seed, uint64_t subsequence, uint64_t block0, uint32_t out[4][16]);

}  // namespace isc
