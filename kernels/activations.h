// activations.h — activation functions, their derivatives and the saturation test, shared by
// the CPU reference and the CUDA kernels.
#pragma once
#include <cmath>
#include <type_traits>

#include "det_math.h"

namespace isc {

// exp, tanh and sigmoid built from IEEE basic operations only: branch-free (CPU loops vectorize),
// a few ulp accurate, and bit-identical on host and device, so both backends activate alike.
ISC_HD float act_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Nearest integer to x log2(e): the argument is positive after the shift, so truncation rounds.
  // NaN takes k from 0 (converting NaN to int is undefined); r, and so the result, stay NaN.
  const float xk = x == x ? x : 0.0f;
  const float kf = static_cast<float>(static_cast<int>(madd_rn(xk, 1.44269504f, 128.5f)) - 128);
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
constexpr int kActivations = 6;

struct ActivationSpec {
  Activation kind = Activation::Tanh;
  float slope = 0.01f;      // leaky_relu negative slope
  float threshold = 0.99f;  // saturation threshold t (see Act<K>::saturated)
};

// Everything about one activation, written once: its defaults (config), f and f' in
// float (both backends, bit-identical), whether a value counts as saturated, and f and f' in
// double (the mean-field theory). Adding an activation: a specialization here, one line in each
// dispatcher below (this file), and one for its name in kActivationNames.
template <Activation K>
struct Act;

template <>
struct Act<Activation::Linear> {
  // Defaults: the activation histogram range and the saturation threshold.
  static constexpr float kRangeLo = -5.0f, kRangeHi = 5.0f, kThreshold = 0.99f;
  static constexpr bool kSaturates = false;  // whether saturation is reported
  // whether f_exact(-s) is -f_exact(s) bit for bit (the mean-field theory uses the symmetry)
  static constexpr bool kOdd = true;
  static ISC_HD float f(const ActivationSpec&, float s) { return s; }
  static ISC_HD float df(const ActivationSpec&, float) { return 1.0f; }
  // f'(s) given h = f(s) as well (the same bits as df(s)): the CPU's backward pass reads the stored
  // activations instead of evaluating f again.
  static ISC_HD float df_h(const ActivationSpec&, float, float) { return 1.0f; }
  static ISC_HD bool saturated(const ActivationSpec&, float) { return false; }
  static double f_exact(const ActivationSpec&, double s) { return s; }
  static double df_exact(const ActivationSpec&, double) { return 1.0; }
};

template <>
struct Act<Activation::Sigmoid> {
  // Defaults: the activation histogram range and the saturation threshold.
  static constexpr float kRangeLo = 0.0f, kRangeHi = 1.0f, kThreshold = 0.99f;
  static constexpr bool kSaturates = true;  // whether saturation is reported
  static constexpr bool kOdd = false;
  static ISC_HD float f(const ActivationSpec&, float s) { return act_sigmoid(s); }
  static ISC_HD float df(const ActivationSpec& a, float s) { return df_h(a, s, f(a, s)); }
  static ISC_HD float df_h(const ActivationSpec&, float, float y) { return mul_rn(y, sub_rn(1.0f, y)); }
  // h <= 1-t or h >= t.
  static ISC_HD bool saturated(const ActivationSpec& a, float h) { return h <= 1.0f - a.threshold || h >= a.threshold; }
  static double f_exact(const ActivationSpec&, double s) { return 1.0 / (1.0 + std::exp(-s)); }
  static double df_exact(const ActivationSpec& a, double s) {
    const double y = f_exact(a, s);
    return y * (1.0 - y);
  }
};

template <>
struct Act<Activation::Tanh> {
  // Defaults: the activation histogram range and the saturation threshold.
  static constexpr float kRangeLo = -1.0f, kRangeHi = 1.0f, kThreshold = 0.99f;
  static constexpr bool kSaturates = true;  // whether saturation is reported
  static constexpr bool kOdd = true;
  static ISC_HD float f(const ActivationSpec&, float s) { return act_tanh(s); }
  static ISC_HD float df(const ActivationSpec& a, float s) { return df_h(a, s, f(a, s)); }
  static ISC_HD float df_h(const ActivationSpec&, float, float y) { return sub_rn(1.0f, mul_rn(y, y)); }
  // |h| >= t.
  static ISC_HD bool saturated(const ActivationSpec& a, float h) { return fabsf(h) >= a.threshold; }
  static double f_exact(const ActivationSpec&, double s) { return std::tanh(s); }
  static double df_exact(const ActivationSpec&, double s) {
    const double y = std::tanh(s);
    return 1.0 - y * y;
  }
};

template <>
struct Act<Activation::Softsign> {
  // Defaults: the activation histogram range and the saturation threshold.
  static constexpr float kRangeLo = -1.0f, kRangeHi = 1.0f, kThreshold = 0.9f;
  static constexpr bool kSaturates = true;  // whether saturation is reported
  static constexpr bool kOdd = true;
  static ISC_HD float f(const ActivationSpec&, float s) { return div_rn(s, add_rn(1.0f, s < 0.0f ? -s : s)); }
  static ISC_HD float df(const ActivationSpec&, float s) {
    const float d = add_rn(1.0f, fabsf(s));
    return div_rn(1.0f, mul_rn(d, d));
  }
  static ISC_HD float df_h(const ActivationSpec& a, float s, float) { return df(a, s); }
  // |h| >= t.
  static ISC_HD bool saturated(const ActivationSpec& a, float h) { return fabsf(h) >= a.threshold; }
  static double f_exact(const ActivationSpec&, double s) { return s / (1.0 + std::fabs(s)); }
  static double df_exact(const ActivationSpec&, double s) {
    return 1.0 / ((1.0 + std::fabs(s)) * (1.0 + std::fabs(s)));
  }
};

template <>
struct Act<Activation::Relu> {
  // Defaults: the activation histogram range and the saturation threshold.
  static constexpr float kRangeLo = 0.0f, kRangeHi = 5.0f, kThreshold = 0.99f;
  static constexpr bool kSaturates = true;  // whether saturation is reported
  static constexpr bool kOdd = false;
  static ISC_HD float f(const ActivationSpec&, float s) { return s > 0.0f ? s : 0.0f; }
  static ISC_HD float df(const ActivationSpec&, float s) { return s > 0.0f ? 1.0f : 0.0f; }
  static ISC_HD float df_h(const ActivationSpec& a, float s, float) { return df(a, s); }
  // h == 0: a "dead" unit.
  static ISC_HD bool saturated(const ActivationSpec&, float h) { return h == 0.0f; }
  static double f_exact(const ActivationSpec&, double s) { return s > 0 ? s : 0.0; }
  static double df_exact(const ActivationSpec&, double s) { return s > 0 ? 1.0 : 0.0; }
};

template <>
struct Act<Activation::LeakyRelu> {
  // Defaults: the activation histogram range and the saturation threshold.
  static constexpr float kRangeLo = -5.0f, kRangeHi = 5.0f, kThreshold = 0.99f;
  static constexpr bool kSaturates = false;  // whether saturation is reported
  static constexpr bool kOdd = false;
  static ISC_HD float f(const ActivationSpec& a, float s) { return s > 0.0f ? s : mul_rn(a.slope, s); }
  static ISC_HD float df(const ActivationSpec& a, float s) { return s > 0.0f ? 1.0f : a.slope; }
  static ISC_HD float df_h(const ActivationSpec& a, float s, float) { return df(a, s); }
  static ISC_HD bool saturated(const ActivationSpec&, float) { return false; }
  static double f_exact(const ActivationSpec& a, double s) { return s > 0 ? s : a.slope * s; }
  static double df_exact(const ActivationSpec& a, double s) { return s > 0 ? 1.0 : a.slope; }
};

// The names users write, in enum order.
constexpr const char* kActivationNames[kActivations] = {"linear", "sigmoid", "tanh", "softsign", "relu", "leaky_relu"};

// Host code that wants one straight (vectorizable) loop per activation: calls
// fn(std::integral_constant<Activation, K>{}) for the runtime kind k.
// Always inlined, so that the loops land in the caller's instruction-set clone.
template <class Fn>
ISC_HOST_INLINE decltype(auto) with_activation(Activation k, Fn&& fn) {
  switch (k) {
    case Activation::Linear: return fn(std::integral_constant<Activation, Activation::Linear>{});
    case Activation::Sigmoid: return fn(std::integral_constant<Activation, Activation::Sigmoid>{});
    case Activation::Tanh: return fn(std::integral_constant<Activation, Activation::Tanh>{});
    case Activation::Softsign: return fn(std::integral_constant<Activation, Activation::Softsign>{});
    case Activation::Relu: return fn(std::integral_constant<Activation, Activation::Relu>{});
    case Activation::LeakyRelu: return fn(std::integral_constant<Activation, Activation::LeakyRelu>{});
  }
  return fn(std::integral_constant<Activation, Activation::Linear>{});  // not reached: every kind has its case
}

// The dispatchers for one value (device code and scalar host code).
#define ISC_ACT_DISPATCH(kind, EXPR)                                            \
  switch (kind) {                                                               \
    case Activation::Linear: {                                                  \
      using A = Act<Activation::Linear>;                                        \
      return EXPR;                                                              \
    }                                                                           \
    case Activation::Sigmoid: {                                                 \
      using A = Act<Activation::Sigmoid>;                                       \
      return EXPR;                                                              \
    }                                                                           \
    case Activation::Tanh: {                                                    \
      using A = Act<Activation::Tanh>;                                          \
      return EXPR;                                                              \
    }                                                                           \
    case Activation::Softsign: {                                                \
      using A = Act<Activation::Softsign>;                                      \
      return EXPR;                                                              \
    }                                                                           \
    case Activation::Relu: {                                                    \
      using A = Act<Activation::Relu>;                                          \
      return EXPR;                                                              \
    }                                                                           \
    case Activation::LeakyRelu: {                                               \
      using A = Act<Activation::LeakyRelu>;                                     \
      return EXPR;                                                              \
    }                                                                           \
  }                                                                             \
  using A = Act<Activation::Linear>; /* not reached: every kind has its case */ \
  return EXPR

ISC_HD float activate(const ActivationSpec& a, float s) { ISC_ACT_DISPATCH(a.kind, A::f(a, s)); }
// f'(s), written in terms of s.
ISC_HD float activate_derivative(const ActivationSpec& a, float s) { ISC_ACT_DISPATCH(a.kind, A::df(a, s)); }
// Whether an activation value counts as saturated: tanh, softsign |h| >= t; sigmoid h <= 1-t or
// h >= t; relu h == 0 ("dead"); linear and leaky_relu never.
ISC_HD bool saturated(const ActivationSpec& a, float h) { ISC_ACT_DISPATCH(a.kind, A::saturated(a, h)); }
inline double activate_exact(const ActivationSpec& a, double s) { ISC_ACT_DISPATCH(a.kind, A::f_exact(a, s)); }
inline double activate_derivative_exact(const ActivationSpec& a, double s) {
  ISC_ACT_DISPATCH(a.kind, A::df_exact(a, s));
}
// Whether saturation is reported at all for this activation (the ones that can saturate).
ISC_HD bool has_saturation(Activation k) { ISC_ACT_DISPATCH(k, A::kSaturates); }

// g * f'(s) as every backward pass rounds it: mul_rn(g, f'(s)); linear leaves g untouched.
ISC_HD float grad_times_derivative(const ActivationSpec& a, float g, float s) {
  return a.kind == Activation::Linear ? g : mul_rn(g, activate_derivative(a, s));
}

}  // namespace isc
