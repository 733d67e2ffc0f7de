// svd_solver.h — the ways the CUDA backend can take the singular values of layer Jacobians, and
// their names (environment variable INITSCOPE_JACOBIAN_SOLVER). Plain C++: no CUDA headers.
#pragma once
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace isc::cuda {

enum class SvdSolver {
  // cusolverDnSgesvd (values only) on each FP32 matrix, one call after another.
  Gesvd,
  // The eigenvalues of the Gram matrix A^T A (n x n, n = the smaller side), formed in FP64 (one DGEMM
  // each), then cusolverDnXsyevBatched over many matrices in one call;
  // sigma = sqrt(lambda). FP64 keeps sigma to about n eps64 sigma_max^2 / (2 sigma), a relative
  // n eps64 kappa^2 / 2: within 1e-4 for condition numbers kappa up to ~3e4 at n = 1000 by this bound
  // (errors seen are far smaller), where FP32 gesvd is already off by n eps32 sigma_max.
  GramBatched,
  // The same Gram matrices, cusolverDnXsyevd on each, one call after another.
  GramSyevd,
};

inline const char* to_string(SvdSolver s) {
  switch (s) {
    case SvdSolver::Gesvd: return "gesvd";
    case SvdSolver::GramBatched: return "gram-batched";
    case SvdSolver::GramSyevd: return "gram-syevd";
  }
  return "?";
}

// The solver named `name`; `where` says where the name came from, for the error.
inline SvdSolver parse_svd_solver(const std::string& name, const std::string& where) {
  for (SvdSolver s : {SvdSolver::Gesvd, SvdSolver::GramBatched, SvdSolver::GramSyevd})
    if (name == to_string(s)) return s;
  throw std::invalid_argument(where + ": unknown Jacobian solver '" + name +
                              "' (known: gesvd, gram-batched, gram-syevd)");
}

// The default, or INITSCOPE_JACOBIAN_SOLVER when set and not empty.
inline SvdSolver svd_solver_from_environment() {
  const char* e = std::getenv("INITSCOPE_JACOBIAN_SOLVER");
  if (!e || !*e) return SvdSolver::Gesvd;
  return parse_svd_solver(e, "INITSCOPE_JACOBIAN_SOLVER");
}

}  // namespace isc::cuda
