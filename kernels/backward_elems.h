// backward_elems.cuh — per-element work of the CUDA backward kernels (shared math only), compiled for
// the host too so that tests check it against the CPU backend without a GPU.
#pragma once
#include "kernels/activations.h"
#include "kernels/rng.h"

namespace isc {

// g * f'(s) exactly as the CPU's cpu_mul_activation_derivative: every activation rounds
// mul_rn(g, activate_derivative(a, s)) (for tanh and relu the CPU's inlined forms are the same
// expressions), and linear leaves g untouched.
ISC_HD float grad_times_derivative(const ActivationSpec& a, float g, float s) {
  return a.kind == Activation::Linear ? g : mul_rn(g, activate_derivative(a, s));
}

// An output logit plus its unit's random bias: the CPU's add_random_bias, x + (bias + draw).
ISC_HD float add_unit_bias(float z, float bias, float draw) { return add_rn(z, add_rn(bias, draw)); }

// Target class of sample i of trial `trial`, as a float: lane i % 4 of Philox block i / 4 of the
// trial's target stream, floor(bits * classes / 2^32) (the CPU's fill_targets, Random).
ISC_HD float random_target(uint64_t seed, uint64_t trial, uint64_t i, int classes) {
  const U32x4 blk = philox_block(seed, target_subsequence(trial), i / 4);
  return static_cast<float>(random_class(lane(blk, unsigned(i % 4)), classes));
}

// Index of the first largest of row[0..classes): std::max_element's loop (a later element wins
// only when `best < it`), NaN included.
ISC_HD int argmax_first(const float* row, int classes) {
  int best = 0;
  for (int k = 1; k < classes; ++k)
    if (row[best] < row[k]) best = k;
  return best;
}

// The layer Jacobian J = diag(f'(s)) W (n_out x n_in, W row-major) as cuSOLVER's gesvd wants it:
// column-major m x n with m >= n, lda = m. For n_in >= n_out that is J^T (the row-major bytes of J
// read column-major, n_in x n_out); otherwise J itself stored column-major (n_out x n_in). Both
// have J's singular values.
struct SvdShape {
  int m = 0, n = 0;
  bool transposed = false;  // the stored matrix is J^T
};
ISC_HD SvdShape jacobian_svd_shape(int n_out, int n_in) {
  return n_in >= n_out ? SvdShape{n_in, n_out, true} : SvdShape{n_out, n_in, false};
}
// Where J[r][c] goes in the stored matrix.
ISC_HD uint64_t jacobian_index(const SvdShape& sh, int r, int c) {
  return sh.transposed ? uint64_t(r) * uint64_t(sh.m) + uint64_t(c) : uint64_t(c) * uint64_t(sh.m) + uint64_t(r);
}
// J[r][c] = f'(s_r) w_rc, rounded as host/cpu_backward.cpp does.
ISC_HD float jacobian_element(const ActivationSpec& a, float s_r, float w_rc) {
  return mul_rn(activate_derivative(a, s_r), w_rc);
}

}  // namespace isc
