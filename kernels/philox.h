// philox.h — Philox4x32-10 and cuRAND's device-side (seed, subsequence, offset) counter mapping.
#pragma once
#include "hd.h"

namespace isc {

struct U32x4 {
  uint32_t x, y, z, w;
};

// Philox4x32 round multipliers and Weyl key increments (Salmon et al. 2011, as in cuRAND).
constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

ISC_HD uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// One Philox round, lane order as in Salmon et al. (2011) and cuRAND.
ISC_HD U32x4 philox_round(U32x4 c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, hi1;
  const uint32_t lo0 = mulhilo32(kPhiloxM0, c.x, &hi0);
  const uint32_t lo1 = mulhilo32(kPhiloxM1, c.z, &hi1);
  return U32x4{hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
}

// Philox4x32 with 10 rounds: the block function behind curandStatePhilox4_32_10_t.
ISC_HD U32x4 philox4x32_10(U32x4 c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 9; ++r) {
    c = philox_round(c, k0, k1);
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return philox_round(c, k0, k1);
}

// The 32-bit word that curand_init(seed, subsequence, offset, &st); curand(&st) returns:
// counter = (offset / 4 as 64 bits in x,y ; subsequence as 64 bits in z,w), lane offset % 4,
// key = (low, high) halves of seed. Offsets used here are < 2^64 so no carry crosses into z.
ISC_HD U32x4 philox_block(uint64_t seed, uint64_t subsequence, uint64_t block) {
  const U32x4 ctr{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), static_cast<uint32_t>(subsequence),
                  static_cast<uint32_t>(subsequence >> 32)};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

ISC_HD uint32_t lane(const U32x4& v, unsigned i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

// cuRAND's _curand_uniform: x * 2^-32 + 2^-33, a float in (0, 1]. The product is exact (power of
// two scaling of a float), so contracting it into an FMA cannot change the result.
ISC_HD float uniform_from_bits(uint32_t x) {
  return add_rn(mul_rn(static_cast<float>(x), 2.3283064365386963e-10f), 1.1641532182693481e-10f);
}

}  // namespace isc
