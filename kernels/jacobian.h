// jacobian.h — the layer Jacobian J = diag(f'(s)) W: its elements (both backends) and the
// column-major layout cuSOLVER's gesvd takes, and singular values from Gram eigenvalues.
#pragma once
#include "activations.h"

namespace isc {

// J[r][c] = f'(s_r) w_rc, one rounding.
ISC_HD float jacobian_element(const ActivationSpec& a, float s_r, float w_rc) {
  return mul_rn(activate_derivative(a, s_r), w_rc);
}

// J (n_out x n_in, W row-major) as gesvd wants it: column-major m x n with m >= n, lda = m. For
// n_in >= n_out that is J^T (the row-major bytes of J read column-major, n_in x n_out); otherwise J
// itself stored column-major (n_out x n_in). Both have J's singular values.
struct SvdShape {
  int m = 0, n = 0;
  bool transposed = false;  // the stored matrix is J^T
};
ISC_HD SvdShape jacobian_svd_shape(int n_out, int n_in) {
  return n_in >= n_out ? SvdShape{n_in, n_out, true} : SvdShape{n_out, n_in, false};
}
// A singular value from an eigenvalue lambda = sigma^2 of the Gram matrix (the FP64 route of
// cuda/svd.cpp): sqrt, rounded once to float. Rounding can leave a zero eigenvalue slightly
// negative: that is 0. NaN stays NaN.
ISC_HD float singular_value_of_eigenvalue(double lambda) {
  if (lambda > 0.0) return float(dsqrt_rn(lambda));
  return lambda == lambda ? 0.0f : float(lambda);
}
// Where J[r][c] goes in the stored matrix.
ISC_HD uint64_t jacobian_index(const SvdShape& sh, int r, int c) {
  return sh.transposed ? uint64_t(r) * uint64_t(sh.m) + uint64_t(c) : uint64_t(c) * uint64_t(sh.m) + uint64_t(r);
}

}  // namespace isc
