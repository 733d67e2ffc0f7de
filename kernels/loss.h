// loss.h — softmax + negative log-likelihood and its gradient for one row of logits (both backends).
#pragma once
#include "activations.h"

namespace isc {

// The gradient's scale for the mean over `samples` samples: 1 / samples, rounded once.
ISC_HD float mean_nll_scale(int samples) { return div_rn(1.0f, static_cast<float>(samples)); }

// g = (softmax(z) - onehot(y)) * scale for one sample of `classes` logits; returns the sample's
// loss -log softmax(z)_y. Max-subtracted for stability; sums in a fixed order.
ISC_HD float softmax_nll_grad_row(const float* z, int y, int classes, float scale, float* g) {
  float m = z[0];
  for (int k = 1; k < classes; ++k) m = z[k] > m ? z[k] : m;
  float sum = 0.0f;
  for (int k = 0; k < classes; ++k) {
    g[k] = act_exp(sub_rn(z[k], m));
    sum = add_rn(sum, g[k]);
  }
  const float inv = div_rn(1.0f, sum);
  for (int k = 0; k < classes; ++k) g[k] = mul_rn(sub_rn(mul_rn(g[k], inv), k == y ? 1.0f : 0.0f), scale);
  return sub_rn(det_log(sum), sub_rn(z[y], m));
}

}  // namespace isc
