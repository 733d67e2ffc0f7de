// svd.h — singular values (only) of many dense matrices, one cuSOLVER gesvd call each, on one stream.
#pragma once
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <vector>

#include "cuda/device_array.h"

namespace isc::cuda {

class SingularValues {
 public:
  explicit SingularValues(cudaStream_t stream);
  ~SingularValues();
  SingularValues(const SingularValues&) = delete;
  SingularValues& operator=(const SingularValues&) = delete;

  // Queues, for i < count: sv[i * n .. i * n + n) <- the singular values, descending, of the
  // column-major m x n matrix a + i * m * n (lda = m; m >= n, as gesvd requires; overwritten), and
  // info[i] <- gesvd's devInfo (0: converged; > 0: that many superdiagonals did not converge;
  // < 0: parameter -info was wrong). Workspace is sized once per (m, n) and reused.
  void compute(float* a, int m, int n, int count, float* sv, int* info);

  // Downloads info[0..count) (waits for the stream): the first nonzero entry's index, or -1;
  // *value gets that entry.
  int first_failure(const int* info, int count, int* value);

 private:
  cudaStream_t stream_;
  cusolverDnHandle_t handle_ = nullptr;
  int m_ = -1, n_ = -1, lwork_ = 0;
  DeviceArray<float> work_, rwork_;
  std::vector<int> host_info_;
};

}  // namespace isc::cuda
