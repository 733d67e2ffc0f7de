// activations.h — activation functions, their derivatives and the saturation test, shared by
// the CPU reference and the CUDA kernels.
#pragma once
#include "hd.h"

namespace isc {

enum class Activation : int { Linear = 0, Sigmoid, Tanh, Softsign, Relu, LeakyRelu };

struct ActivationSpec {
  Activation kind = Activation::Tanh;
  float slope = 0.01f;      // leaky_relu negative slope
  float threshold = 0.99f;  // saturation threshold t (see saturated())
};

ISC_HD float activate(const ActivationSpec& a, float s) {
  switch (a.kind) {
    case Activation::Linear: return s;
    case Activation::Sigmoid: return 1.0f / (1.0f + expf(-s));
    case Activation::Tanh: return tanhf(s);
    case Activation::Softsign: return s / (1.0f + fabsf(s));
    case Activation::Relu: return s > 0.0f ? s : 0.0f;
    case Activation::LeakyRelu: return s > 0.0f ? s : a.slope * s;
  }
  return s;
}

// f'(s), written in terms of s.
ISC_HD float activate_derivative(const ActivationSpec& a, float s) {
  switch (a.kind) {
    case Activation::Linear: return 1.0f;
    case Activation::Sigmoid: {
      const float y = 1.0f / (1.0f + expf(-s));
      return y * (1.0f - y);
    }
    case Activation::Tanh: {
      const float y = tanhf(s);
      return 1.0f - y * y;
    }
    case Activation::Softsign: {
      const float d = 1.0f + fabsf(s);
      return 1.0f / (d * d);
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
