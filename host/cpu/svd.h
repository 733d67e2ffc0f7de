// cpu_backward.h — CPU pieces of the backward diagnostics that need LAPACK (layer Jacobians).
#pragma once
#include <cstddef>

#include "kernels/activations.h"

namespace isc {

// Singular values (descending, min(n_out, n_in) of them) of J = diag(f'(s)) W for one sample:
// s has n_out pre-activations, W is n_out x n_in row-major. Uses LAPACK's sgesdd.
void jacobian_singular_values(const float* s, const float* w, const ActivationSpec& act, int n_out, int n_in,
                              float* sv);

// The memory jacobian_singular_values holds while it runs, in bytes: the matrix, and LAPACK's
// optimal workspace (asked of sgesdd) and integer workspace.
std::size_t jacobian_scratch_bytes(int n_out, int n_in);

// Singular values of a general row-major m x n matrix (overwritten).
void singular_values(float* a, int m, int n, float* sv);

}  // namespace isc
