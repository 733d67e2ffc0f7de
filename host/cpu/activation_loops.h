// activation_loops.h — the CPU's elementwise activation loops: bias + activation, g * f'(s), counted predicates.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/activations.h"

namespace isc {

// s[i] += bias; h[i] = f(s[i]).
void cpu_bias_activate(float* s, float* h, std::size_t n, float bias, const ActivationSpec& a);

// g[i] *= f'(s[i]), given h[i] = f(s[i]) too (Act::df_h: the same bits as f'(s[i]) alone).
void cpu_mul_activation_derivative(float* g, const float* s, const float* h, std::size_t n, const ActivationSpec& a);

// counts[K] += the number of x[i] that counted predicate K accepts (kernels/counted.h), for each K
// in `mask`.
void cpu_count(const float* x, std::size_t n, const ActivationSpec& a, unsigned mask, uint64_t* counts);

}  // namespace isc
