// train.h — the per-element math of an SGD step, written once for both backends: a unit's bias, the
// parameter update, and one sample's loss and whether it is misclassified.
#pragma once
#include "activations.h"
#include "loss.h"
#include "targets.h"

namespace isc {

// theta - learning_rate * g, each operation rounded once (no fused multiply-add: the same bits on
// every backend).
ISC_HD float sgd_element(float p, float g, float learning_rate) { return sub_rn(p, mul_rn(learning_rate, g)); }

// -log softmax(z)_y of one sample: the value softmax_nll_grad_row returns, by the same operations.
ISC_HD float softmax_nll_row(const float* z, int y, int classes) {
  float m = z[0];
  for (int k = 1; k < classes; ++k) m = z[k] > m ? z[k] : m;
  float sum = 0.0f;
  for (int k = 0; k < classes; ++k) sum = add_rn(sum, act_exp(sub_rn(z[k], m)));
  return sub_rn(det_log(sum), sub_rn(z[y], m));
}

// 1 when the first arg-max of the logits is not the label.
ISC_HD int misclassified(const float* z, int y, int classes) { return argmax_first(z, classes) != y ? 1 : 0; }

}  // namespace isc
