// backward_kernels.h — launchers of the CUDA backward-diagnostics element kernels (targets, softmax
// gradient, biases, g * f'(s), layer Jacobians); their per-element work is in kernels/ (inputs.h, jacobian.h,
// targets.h, loss.h, activations.h).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/activations.h"

namespace isc::cuda {

// s[t][i][j] += bias (unit_draws == nullptr) or += (bias + unit_draws[t * width + j]), for the
// trials x samples x width logits.
void launch_add_bias(float* s, int trials, int samples, int width, float bias, const float* unit_draws,
                     cudaStream_t stream);

// y[t * samples + i] <- random_target(seed, first_trial + t, i, classes).
void launch_random_targets(float* y, uint64_t seed, uint64_t first_trial, int trials, int samples, int classes,
                           cudaStream_t stream);

// y[r] <- argmax_first(logits + r * classes) for r < rows (as a float).
void launch_argmax_targets(const float* logits, float* y, uint64_t rows, int classes, cudaStream_t stream);

// One thread per row r < rows: softmax_nll_grad_row(z + r * classes, int(y[r]), classes, scale, g + r * classes).
void launch_softmax_nll_grad(const float* z, const float* y, float* g, uint64_t rows, int classes, float scale,
                             cudaStream_t stream);

// g[i] <- grad_times_derivative(act, g[i], s[i]) for i < n (no statistics).
void launch_mul_activation_derivative(float* g, const float* s, uint64_t n, const ActivationSpec& act,
                                      cudaStream_t stream);

// Jacobians J = diag(f'(s[t][j])) W[t] of matrices M = first .. first + count - 1 (M = t * jac_samples + j):
// matrix M - first goes to out + (M - first) * n_out * n_in in jacobian_svd_shape(n_out, n_in)'s
// column-major layout. s is trials x samples x n_out, w is trials x n_out x n_in.
void launch_jacobians(const float* s, const float* w, const ActivationSpec& act, int samples, int n_out, int n_in,
                      int jac_samples, uint64_t first, int count, float* out, cudaStream_t stream);

}  // namespace isc::cuda
