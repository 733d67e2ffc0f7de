// quantity.h — the quantities measured per layer, shared by the backends' kernels and the host.
#pragma once

namespace isc {

// Quantities measured per layer l (1-based in outputs): the pre-activation s_l, the activation
// h_l = f(s_l), the back-propagated gradient dC/ds_l, the weight gradient dC/dW_l, and the
// singular values of the layer Jacobian J_l = dh_l/dh_{l-1} = diag(f'(s_l)) W_l.
enum class Quantity : int { Preactivation = 0, Activation, BackpropGradient, WeightGradient, JacobianSingularValue };
constexpr int kQuantities = 5;

}  // namespace isc
