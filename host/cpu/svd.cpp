// cpu_backward.cpp — layer Jacobian singular values on the CPU through LAPACKE (sgesdd, values only).
#include "host/cpu/svd.h"

#include "kernels/jacobian.h"

#include <lapacke.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace isc {

void singular_values(float* a, int m, int n, float* sv) {
  const lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'N', m, n, a, n, sv, nullptr, m, nullptr, n);
  if (info != 0)
    throw std::runtime_error("LAPACKE_sgesdd failed on a " + std::to_string(m) + "x" + std::to_string(n) +
                             " Jacobian (info " + std::to_string(info) + ")");
}

void jacobian_singular_values(const float* s, const float* w, const ActivationSpec& act, int n_out, int n_in,
                              float* sv) {
  std::vector<float> j(static_cast<std::size_t>(n_out) * n_in);
  for (int r = 0; r < n_out; ++r) {
    for (int c = 0; c < n_in; ++c)
      j[static_cast<std::size_t>(r) * n_in + c] =
          jacobian_element(act, s[r], w[static_cast<std::size_t>(r) * n_in + c]);
  }
  singular_values(j.data(), n_out, n_in, sv);
}

}  // namespace isc
