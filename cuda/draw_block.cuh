// draw_block.cuh — the draw kernel's per-thread work: four draws of one Philox block, the raw bits
// from cuRAND's own generator. Compiled for the host too, so tests check it without a GPU.
#pragma once
// cuRAND's device API is plain code behind QUALIFIERS (default: static __forceinline__ __device__);
// widened here to host and device. It must be the first curand_kernel.h in the translation unit.
#if !defined(QUALIFIERS)
#if defined(__CUDACC__)
#define QUALIFIERS static __forceinline__ __host__ __device__
#else
#define QUALIFIERS static inline
#endif
#endif
#include <curand_kernel.h>

#include "kernels/init.h"

namespace isc::cuda {

// Elements [4*block, 4*block + 4) of the stream (seed, subsequence) under d: what draw4() gives,
// with the bits from curand4 after curand_init(seed, subsequence, 4*block), which puts the counter
// on that Philox block.
ISC_HD void draw_block(const LayerDraw& d, uint64_t seed, uint64_t subsequence, uint64_t block, float v[4]) {
  if (d.kind == DrawKind::Constant) {
    v[0] = v[1] = v[2] = v[3] = d.scale;
    return;
  }
  curandStatePhilox4_32_10_t st;
  curand_init(seed, subsequence, 4 * block, &st);
  const uint4 r = curand4(&st);
  const float u[4] = {uniform_from_bits(r.x), uniform_from_bits(r.y), uniform_from_bits(r.z), uniform_from_bits(r.w)};
  if (d.kind == DrawKind::Uniform) {
    for (int i = 0; i < 4; ++i) v[i] = uniform_symmetric(u[i], d.scale);
  } else {
    box_muller(u[0], u[1], &v[0], &v[1]);
    box_muller(u[2], u[3], &v[2], &v[3]);
    for (int i = 0; i < 4; ++i) v[i] = mul_rn(v[i], d.scale);
  }
}

}  // namespace isc::cuda
