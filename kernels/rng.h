// rng.h — where every random number comes from: (seed, trial, slot, element) -> Philox stream.
#pragma once
#include "det_math.h"
#include "philox.h"

namespace isc {

// Each trial owns kSlotsPerTrial cuRAND subsequences: slot 0 is its input batch, slot 1 + l the
// weights of layer l (l = 0 is the first hidden layer, l = depth the output layer).
constexpr uint64_t kSlotsPerTrial = 4096;
constexpr int kMaxLayers = 1000;  // hidden layers; documented limit (slots 1..1001 are used)

ISC_HD uint64_t input_subsequence(uint64_t trial) { return trial * kSlotsPerTrial; }
// Slots 2048 + l: random biases of layer l (network.bias_std > 0).
ISC_HD uint64_t bias_subsequence(uint64_t trial, int layer) {
  return trial * kSlotsPerTrial + 2048 + static_cast<uint64_t>(layer);
}
// Slot 4000: the trial's random target classes.
ISC_HD uint64_t target_subsequence(uint64_t trial) { return trial * kSlotsPerTrial + 4000; }
// The teacher network shared by every trial of a configuration: a subsequence no trial reaches
// (trials < 2^51).
ISC_HD uint64_t teacher_subsequence() { return uint64_t(1) << 63; }

// A class in [0, classes) from 32 random bits: floor(bits * classes / 2^32).
ISC_HD int random_class(uint32_t bits, int classes) {
  return static_cast<int>((static_cast<uint64_t>(bits) * static_cast<uint64_t>(classes)) >> 32);
}
ISC_HD uint64_t weight_subsequence(uint64_t trial, int layer) {
  return trial * kSlotsPerTrial + 1 + static_cast<uint64_t>(layer);
}

// The four uniforms (0, 1] at elements 4*block .. 4*block+3 of a subsequence, exactly what
// curand_init(seed, subsequence, 4*block, &st); curand_uniform4(&st) yields.
ISC_HD void uniform4(uint64_t seed, uint64_t subsequence, uint64_t block, float out[4]) {
  const U32x4 b = philox_block(seed, subsequence, block);
  out[0] = uniform_from_bits(b.x);
  out[1] = uniform_from_bits(b.y);
  out[2] = uniform_from_bits(b.z);
  out[3] = uniform_from_bits(b.w);
}

// Box-Muller on one pair of uniforms with the deterministic log/sincos: (r sin, r cos), the
// same pairing as cuRAND's curand_normal4 (lanes x,y then z,w), identical bits on host and device.
ISC_HD void box_muller(float u, float v, float* z0, float* z1) {
  const float r = sqrt_rn(mul_rn(-2.0f, det_log(u)));
  float s, c;
  det_sincos_2pi(v, &s, &c);
  *z0 = mul_rn(r, s);
  *z1 = mul_rn(r, c);
}

ISC_HD void normal4(uint64_t seed, uint64_t subsequence, uint64_t block, float out[4]) {
  float u[4];
  uniform4(seed, subsequence, block, u);
  box_muller(u[0], u[1], &out[0], &out[1]);
  box_muller(u[2], u[3], &out[2], &out[3]);
}

// Mixes a 64-bit value (splitmix64 finalizer); used to derive the Philox key from the user
// seed and the configuration's stream hash.
ISC_HD uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace isc
