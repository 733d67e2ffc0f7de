// svd_reference.h — the references of the singular-value solvers (tests and the solver benchmark):
// Jacobian-like test matrices in the layout the solvers take, LAPACK's dgesdd in FP64, and the Gram
// route of cuda/svd.cpp (FP64 A^T A, eigenvalues, sqrt) on the host with OpenBLAS and LAPACK.
#pragma once
#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/jacobian.h"

namespace isc::svd_test {

// `count` Jacobians J = diag(f'(s)) W of an n_out x n_in layer (s ~ N(0, s_std^2), W ~ N(0, 1/n_in)),
// each stored as the solvers take it: column-major m x n, m >= n (kernels/jacobian.h).
inline std::vector<float> jacobians(int n_out, int n_in, int count, const ActivationSpec& act, float s_std,
                                    uint32_t seed) {
  const SvdShape sh = jacobian_svd_shape(n_out, n_in);
  const std::size_t per = std::size_t(sh.m) * std::size_t(sh.n);
  std::vector<float> out(per * std::size_t(count));
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const float w_std = 1.0f / std::sqrt(float(n_in));
  for (int i = 0; i < count; ++i) {
    std::vector<float> s(static_cast<std::size_t>(n_out));
    for (auto& v : s) v = s_std * nd(gen);
    for (int r = 0; r < n_out; ++r)
      for (int c = 0; c < n_in; ++c)
        out[std::size_t(i) * per + jacobian_index(sh, r, c)] =
            jacobian_element(act, s[std::size_t(r)], w_std * nd(gen));
  }
  return out;
}

// Singular values (descending) of the column-major m x n matrix a, in FP64 (LAPACK dgesdd).
inline std::vector<double> reference_values(const float* a, int m, int n) {
  std::vector<double> d(a, a + std::size_t(m) * std::size_t(n)), sv(std::size_t(std::min(m, n)));
  const int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', m, n, d.data(), m, sv.data(), nullptr, 1, nullptr, 1);
  if (info != 0) throw std::runtime_error("dgesdd: info " + std::to_string(info));
  return sv;
}

// The Gram route on the host, the same operations as cuda/svd.cpp's: widen; G = A^T A (n x n,
// column-major, DGEMM with op(A) = A^T, lda = m, ldc = n); eigenvalues of its lower triangle
// (dsyevd, values only, ascending); singular_value_of_eigenvalue, descending.
inline std::vector<float> gram_route(const float* a, int m, int n) {
  std::vector<double> d(a, a + std::size_t(m) * std::size_t(n)), g(std::size_t(n) * std::size_t(n)),
      eig(static_cast<std::size_t>(n));
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, n, m, 1.0, d.data(), m, d.data(), m, 0.0, g.data(), n);
  const int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', n, g.data(), n, eig.data());
  if (info != 0) throw std::runtime_error("dsyevd: info " + std::to_string(info));
  std::vector<float> sv(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) sv[std::size_t(j)] = singular_value_of_eigenvalue(eig[std::size_t(n - 1 - j)]);
  return sv;
}

// How far a singular value of the Gram route may be from the FP64 reference. An eigenvalue of the
// FP64 Gram matrix is off by about n eps64 sigma_max^2 (forming G and the eigensolver, both
// backward stable), so sigma by n eps64 sigma_max^2 / (2 sigma) (and by sqrt(n eps64) sigma_max at
// sigma = 0); the one rounding to float adds eps32/2 relative. The bound is 1e-4 relative;
// this is far inside it wherever sigma > 1e-5 sigma_max, and the test asserts both.
inline double gram_tolerance(double sigma, double sigma_max, int n) {
  const double eps64 = 2.220446049250313e-16, eps32 = 1.1920928955078125e-07;
  const double lambda_error = 4.0 * n * eps64 * sigma_max * sigma_max;  // (a factor 4 of slack)
  const double sigma_error =
      sigma > 0 ? std::min(lambda_error / (2.0 * sigma), std::sqrt(lambda_error)) : std::sqrt(lambda_error);
  return sigma_error + eps32 * sigma;
}

}  // namespace isc::svd_test
