// activations.h — activation functions, their derivatives and the saturation test, shared by
// the CPU reference and the CUDA kernels.
#pragma once
#include "det_math.h"

namespace isc {

// exp, tanh and sigmoid built from IEEE basic operations only: branch-free (CPU loops vectorize),
// a few ulp accurate, and bit-identical on host and device, so both backends activate alike.
ISC_HD float act_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Nearest integer to x log2(e): the argument is positive after the shift, so truncation rounds.
  const float kf = static_cast<float>(static_cast<int>(madd_rn(x, 1.44269504f, 128.5f)) - 128);
  const float r = sub_rn(sub_rn(x, mul_rn(kf, 0.693145751953125f)), mul_rn(kf, 1.4286068203094172e-06f));
  float p = 1.0f / 5040.0f;
  p = madd_rn(p, r, 1.0f / 720.0f);
  p = madd_rn(p, r, 1.0f / 120.0f);
  p = madd_rn(p, r, 1.0f / 24.0f);
  p = madd_rn(p, r, 1.0f / 6.0f);
  p = madd_rn(p, r, 0.5f);
  p = madd_rn(p, r, 1.0f);
  p = madd_rn(p, r, 1.0f);
  const float two_k = float_of(static_cast<uint32_t>(static_cast<int>(kf) + 127) << 23);
  return mul_rn(p, two_k);
}

// tanh |x| = em / (em + 2) with em = expm1(2|x|), one path for every x (branch-free, ~25
// operations): 2|x| = k ln2 + r with |r| <= ln2 / 2, expm1(r) by its Taylor series to r^8 / 8!
// (truncation below 1e-9 relative), em = 2^k expm1(r) + (2^k - 1) with one rounding (fma). Within
// 3 ulp of tanh (tested over every float up to 20); tanh(x) = x for tiny x.
ISC_HD float act_tanh(float x) {
  const float ax = fabsf(x);
  float y = add_rn(ax, ax);
  y = y <= 40.0f ? y : 40.0f;  // tanh(20) rounds to 1; NaN is given back at the end
  // k = nearest integer to y log2(e) (y >= 0, so truncation after + 0.5 rounds).
  const float kf = static_cast<float>(static_cast<int>(fma_rn(y, 1.44269504f, 0.5f)));
  // ln 2 split so that k * ln2_hi is exact for k < 2^9.
  const float r = fma_rn(-kf, 1.4286068203094172e-06f, fma_rn(-kf, 0.693145751953125f, y));
  float p = 1.0f / 40320.0f;
  p = fma_rn(p, r, 1.0f / 5040.0f);
  p = fma_rn(p, r, 1.0f / 720.0f);
  p = fma_rn(p, r, 1.0f / 120.0f);
  p = fma_rn(p, r, 1.0f / 24.0f);
  p = fma_rn(p, r, 1.0f / 6.0f);
  p = fma_rn(p, r, 0.5f);
  const float q = fma_rn(mul_rn(r, r), p, r);  // expm1(r)
  const float two_k = float_of(static_cast<uint32_t>(static_cast<int>(kf) + 127) << 23);
  const float em = fma_rn(two_k, q, sub_rn(two_k, 1.0f));
  const float t = div_rn(em, add_rn(em, 2.0f));
  const float st = x < 0.0f ? -t : t;
  return x != x ? x : st;
}

ISC_HD float act_sigmoid(float x) {
  const float e = act_exp(x < 0.0f ? x : -x);  // exp(-|x|) in (0, 1]
  const float s = div_rn(1.0f, add_rn(1.0f, e));
  return x >= 0.0f ? s : mul_rn(e, s);
}

enum class Activation : int { Linear = 0, Sigmoid, Tanh, Softsign, Relu, LeakyRelu };

struct ActivationSpec {
  Activation kind = Activation::Tanh;
  float slope = 0.01f;      // leaky_relu negative slope
  float threshold = 0.99f;  // saturation threshold t (see saturated())
};

ISC_HD float activate(const ActivationSpec& a, float s) {
  switch (a.kind) {
    case Activation::Linear: return s;
    case Activation::Sigmoid: return act_sigmoid(s);
    case Activation::Tanh: return act_tanh(s);
    case Activation::Softsign: return div_rn(s, add_rn(1.0f, s < 0.0f ? -s : s));
    case Activation::Relu: return s > 0.0f ? s : 0.0f;
    case Activation::LeakyRelu: return s > 0.0f ? s : mul_rn(a.slope, s);
  }
  return s;
}

// f'(s), written in terms of s.
ISC_HD float activate_derivative(const ActivationSpec& a, float s) {
  switch (a.kind) {
    case Activation::Linear: return 1.0f;
    case Activation::Sigmoid: {
      const float y = act_sigmoid(s);
      return mul_rn(y, sub_rn(1.0f, y));
    }
    case Activation::Tanh: {
      const float y = act_tanh(s);
      return sub_rn(1.0f, mul_rn(y, y));
    }
    case Activation::Softsign: {
      const float d = add_rn(1.0f, fabsf(s));
      return div_rn(1.0f, mul_rn(d, d));
    }
    case Activation::Relu: return s > 0.0f ? 1.0f : 0.0f;
    case Activation::LeakyRelu: return s > 0.0f ? 1.0f : a.slope;
  }
  return 1.0f;
}

// Whether an activation value counts as saturated: tanh, softsign |h| >= t; sigmoid h <= 1-t or
// h >= t; relu h == 0 ("dead"); linear and leaky_relu never.
ISC_HD bool saturated(const ActivationSpec& a, float h) {
  switch (a.kind) {
    case Activation::Tanh:
    case Activation::Softsign: return fabsf(h) >= a.threshold;
    case Activation::Sigmoid: return h <= 1.0f - a.threshold || h >= a.threshold;
    case Activation::Relu: return h == 0.0f;
    default: return false;
  }
}

ISC_HD bool has_saturation(Activation k) {
  return k == Activation::Tanh || k == Activation::Softsign || k == Activation::Sigmoid ||
         k == Activation::Relu;
}

}  // namespace isc
