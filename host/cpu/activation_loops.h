// activation_loops.h — the CPU's elementwise activation loops: bias + activation, g * f'(s), saturation counts.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/activations.h"

namespace isc {

// s[i] += bias; h[i] = f(s[i]).
void cpu_bias_activate(float* s, float* h, std::size_t n, float bias, const ActivationSpec& a);

// g[i] *= f'(s[i]).
void cpu_mul_activation_derivative(float* g, const float* s, std::size_t n, const ActivationSpec& a);

// Number of x[i] that saturated(a, x[i]) accepts.
uint64_t cpu_count_saturated(const float* x, std::size_t n, const ActivationSpec& a);

}  // namespace isc
