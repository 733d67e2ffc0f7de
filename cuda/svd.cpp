// svd.cpp — cuSOLVER gesvd (jobu = jobvt = 'N': values only) over a batch of matrices, every call
// and every devInfo checked.
#include "cuda/svd.h"

#include <stdexcept>
#include <string>

#include "cuda/check.h"

namespace isc::cuda {

SingularValues::SingularValues(cudaStream_t stream) : stream_(stream) {
  ISC_CUSOLVER_CHECK(cusolverDnCreate(&handle_));
  ISC_CUSOLVER_CHECK(cusolverDnSetStream(handle_, stream_));
}

SingularValues::~SingularValues() {
  if (handle_) cusolverDnDestroy(handle_);
}

void SingularValues::compute(float* a, int m, int n, int count, float* sv, int* info) {
  if (count <= 0) return;
  if (n < 1 || m < n)
    throw std::logic_error("SingularValues: gesvd needs m >= n >= 1, got " + std::to_string(m) + " x " +
                           std::to_string(n));
  if (m != m_ || n != n_) {
    ISC_CUSOLVER_CHECK(cusolverDnSgesvd_bufferSize(handle_, m, n, &lwork_));
    work_.reserve(std::size_t(lwork_ > 0 ? lwork_ : 1));
    rwork_.reserve(std::size_t(n));  // unconverged superdiagonal elements when info > 0
    m_ = m;
    n_ = n;
  }
  const std::size_t per = std::size_t(m) * std::size_t(n);
  for (int i = 0; i < count; ++i) {
    // U and VT are not referenced for 'N'; their leading dimensions still must be valid.
    ISC_CUSOLVER_CHECK(cusolverDnSgesvd(handle_, 'N', 'N', m, n, a + std::size_t(i) * per, m, sv + std::size_t(i) * n,
                                        nullptr, m, nullptr, n, work_.get(), lwork_, rwork_.get(), info + i));
  }
}

int SingularValues::first_failure(const int* info, int count, int* value) {
  if (count <= 0) return -1;
  host_info_.resize(std::size_t(count));
  ISC_CUDA_CHECK(
      cudaMemcpyAsync(host_info_.data(), info, std::size_t(count) * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (int i = 0; i < count; ++i)
    if (host_info_[std::size_t(i)] != 0) {
      *value = host_info_[std::size_t(i)];
      return i;
    }
  return -1;
}

}  // namespace isc::cuda
