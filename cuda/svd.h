// svd.h — singular values (only) of many dense matrices on one stream: cuSOLVER gesvd on each FP32
// matrix, or the eigenvalues of FP64 Gram matrices (cuda/svd_solver.h says which and why).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <cstddef>
#include <vector>

#include "cuda/device_array.h"
#include "cuda/svd_solver.h"

namespace isc::cuda {

class SingularValues {
 public:
  // gram_scratch_bytes: the FP64 scratch the Gram solvers may hold (tests make it small, to work
  // through small matrices in several groups).
  SingularValues(cudaStream_t stream, SvdSolver solver, std::size_t gram_scratch_bytes = kGramScratchBytes);
  ~SingularValues();
  SingularValues(const SingularValues&) = delete;
  SingularValues& operator=(const SingularValues&) = delete;

  // Queues, for i < count: sv[i * n .. i * n + n) <- the singular values, descending, of the
  // column-major m x n matrix a + i * m * n (lda = m; m >= n >= 1; not modified), and info[i] <- the
  // solver's devInfo (0: converged; > 0: did not converge; n + 1: a NaN in the matrix; < 0:
  // parameter -info was wrong). A matrix's values do not depend on its position in the batch nor
  // on count. Workspaces are sized once per (m, n) and reused; the Gram solvers work through the
  // matrices in groups whose FP64 scratch stays within gram_scratch_bytes (one matrix at least).
  void compute(const float* a, int m, int n, int count, float* sv, int* info);

  // Downloads info[0..count) (waits for the stream): the first nonzero entry's index, or -1;
  // *value gets that entry.
  int first_failure(const int* info, int count, int* value);

  SvdSolver solver() const { return solver_; }
  const char* routine() const;  // the cuSOLVER routine, for messages

  // Device memory the Gram solvers may hold beside the matrices: inside the backend's fixed margin
  // (cuda_backend.cpp memory_margin, at least 768 MiB).
  static constexpr std::size_t kGramScratchBytes = std::size_t(192) << 20;

 private:
  void gesvd(const float* a, int m, int n, int count, float* sv, int* info);
  void gram(const float* a, int m, int n, int count, float* sv, int* info);
  // Sizes the Gram solver's workspace for groups of `group` n x n matrices; returns its device bytes.
  std::size_t size_eigen_workspace(int n, int group);

  cudaStream_t stream_;
  SvdSolver solver_;
  std::size_t gram_scratch_bytes_;
  cusolverDnHandle_t handle_ = nullptr;
  cublasHandle_t blas_ = nullptr;        // the Gram solvers' DGEMM
  cusolverDnParams_t params_ = nullptr;  // the Gram solvers' 64-bit API
  int m_ = -1, n_ = -1, group_ = 0, lwork_ = 0;
  DeviceArray<float> work_, rwork_, copy_;  // gesvd's workspaces; the matrix it works on
  DeviceArray<int> nan_;                    // per matrix of the call: 1 if it holds a NaN
  DeviceArray<double> wide_, gram_, eig_;
  std::size_t wide_stride_ = 0, gram_ld_ = 0, eig_stride_ = 0;  // in doubles (see gram())
  DeviceArray<char> eig_work_;
  std::size_t eig_work_bytes_ = 0;
  std::vector<char> host_work_;
  std::vector<int> host_info_;
};

}  // namespace isc::cuda
