// svd.cpp — layer Jacobian singular values on the CPU through LAPACK's sgesdd (values only).
#include "host/cpu/svd.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/cpu/openblas.h"
#include "kernels/jacobian.h"

// LAPACK's Fortran routine sgesdd_, as OpenBLAS exports it (openblas::sgesdd: 32-bit integers;
// gfortran passes the length of a character argument after the others). Called directly rather than
// through LAPACKE: LAPACKE and the two libraries it loads (libblas.so.3, liblapack.so.3) added about
// 6,800 symbol relocations to every start of initscope (docs/benchmarks.md), for this one call.

namespace isc {
namespace {

// sgesdd's workspace query for the singular values alone of an m x n matrix (the query reads
// neither the matrix nor the outputs): the optimal number of floats of workspace, and LAPACK's info.
int sgesdd_work_floats(int m, int n, int* info) {
  const char jobz = 'N';
  const int lda = std::max(1, m), one = 1, query = -1;
  std::vector<int> iwork(std::size_t(8) * std::size_t(std::max(1, std::min(m, n))));
  float best = 0.0f, dummy = 0.0f;
  openblas::sgesdd(&jobz, &m, &n, &dummy, &lda, &dummy, &dummy, &one, &dummy, &one, &best, &query, iwork.data(), info,
                   1);
  return static_cast<int>(best);
}

// Singular values of the column-major m x n matrix a (lda = m, overwritten): what
// LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'N', ...) does, the same calls (a workspace query, then the
// routine with the optimal workspace), so the same values bit for bit.
void sgesdd_values(float* a, int m, int n, float* sv) {
  for (std::size_t i = 0, size = std::size_t(m) * std::size_t(n); i < size; ++i)
    if (std::isnan(a[i]))  // as LAPACKE's NaN check: LAPACK itself would not say which argument
      throw std::runtime_error("sgesdd: a NaN in the " + std::to_string(m) + "x" + std::to_string(n) + " Jacobian");
  int info = 0;
  const int lwork = sgesdd_work_floats(m, n, &info);
  if (info == 0) {
    const char jobz = 'N';
    const int lda = std::max(1, m), one = 1;
    float dummy = 0.0f;
    std::vector<int> iwork(std::size_t(8) * std::size_t(std::max(1, std::min(m, n))));
    std::vector<float> work(std::size_t(std::max(1, lwork)));
    openblas::sgesdd(&jobz, &m, &n, a, &lda, sv, &dummy, &one, &dummy, &one, work.data(), &lwork, iwork.data(), &info,
                     1);
  }
  if (info != 0)
    throw std::runtime_error("sgesdd failed on a " + std::to_string(m) + "x" + std::to_string(n) + " Jacobian (info " +
                             std::to_string(info) + ")");
}

}  // namespace

std::size_t jacobian_scratch_bytes(int n_out, int n_in) {
  if (n_out < 1 || n_in < 1) return 0;
  const std::size_t matrix = std::size_t(n_out) * std::size_t(n_in);
  const std::size_t iwork = std::size_t(8) * std::size_t(std::min(n_out, n_in));
  int info = 0;
  const std::size_t work = std::size_t(std::max(1, sgesdd_work_floats(n_out, n_in, &info)));
  return (matrix + work) * sizeof(float) + iwork * sizeof(int);
}

void singular_values(float* a, int m, int n, float* sv) {
  // Row-major in, column-major for LAPACK: the transpose LAPACKE's row-major call made.
  std::vector<float> t(std::size_t(m) * std::size_t(n));
  for (int r = 0; r < m; ++r)
    for (int c = 0; c < n; ++c) t[std::size_t(c) * m + r] = a[std::size_t(r) * n + c];
  sgesdd_values(t.data(), m, n, sv);
}

void jacobian_singular_values(const float* s, const float* w, const ActivationSpec& act, int n_out, int n_in,
                              float* sv) {
  // Built column-major (n_out x n_in, lda = n_out): the matrix LAPACK gets, without a transpose.
  std::vector<float> j(static_cast<std::size_t>(n_out) * n_in);
  for (int r = 0; r < n_out; ++r)
    for (int c = 0; c < n_in; ++c)
      j[static_cast<std::size_t>(c) * n_out + r] =
          jacobian_element(act, s[r], w[static_cast<std::size_t>(r) * n_in + c]);
  sgesdd_values(j.data(), n_out, n_in, sv);
}

}  // namespace isc
