// svd.cpp — singular values of a batch of matrices: cuSOLVER gesvd (jobu = jobvt = 'N': values
// only), or FP64 Gram matrices (DGEMM) and their eigenvalues (XsyevBatched or Xsyevd, values only);
// every call and every devInfo checked.
#include "cuda/svd.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/check.h"
#include "cuda/gram_kernels.h"

namespace isc::cuda {

SingularValues::SingularValues(cudaStream_t stream, SvdSolver solver, std::size_t gram_scratch_bytes)
    : stream_(stream), solver_(solver), gram_scratch_bytes_(gram_scratch_bytes) {
  ISC_CUSOLVER_CHECK(cusolverDnCreate(&handle_));
  ISC_CUSOLVER_CHECK(cusolverDnSetStream(handle_, stream_));
  if (solver_ != SvdSolver::Gesvd) {
    ISC_CUSOLVER_CHECK(cusolverDnCreateParams(&params_));
    ISC_CUBLAS_CHECK(cublasCreate(&blas_));
    ISC_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
  }
}

SingularValues::~SingularValues() {
  if (blas_) cublasDestroy(blas_);
  if (params_) cusolverDnDestroyParams(params_);
  if (handle_) cusolverDnDestroy(handle_);
}

const char* SingularValues::routine() const {
  switch (solver_) {
    case SvdSolver::Gesvd: return "cusolverDnSgesvd";
    case SvdSolver::GramBatched: return "cusolverDnXsyevBatched";
    case SvdSolver::GramSyevd: return "cusolverDnXsyevd";
  }
  return "?";
}

void SingularValues::compute(float* a, int m, int n, int count, float* sv, int* info) {
  if (count <= 0) return;
  if (n < 1 || m < n)
    throw std::logic_error("SingularValues: needs m >= n >= 1, got " + std::to_string(m) + " x " + std::to_string(n));
  if (solver_ == SvdSolver::Gesvd)
    gesvd(a, m, n, count, sv, info);
  else
    gram(a, m, n, count, sv, info);
}

void SingularValues::gesvd(float* a, int m, int n, int count, float* sv, int* info) {
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

std::size_t SingularValues::size_eigen_workspace(int n, int group) {
  std::size_t device = 0, host = 0;
  if (solver_ == SvdSolver::GramBatched)
    ISC_CUSOLVER_CHECK(cusolverDnXsyevBatched_bufferSize(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR,
                                                         CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, gram_.get(), n,
                                                         CUDA_R_64F, eig_.get(), CUDA_R_64F, &device, &host, group));
  else
    ISC_CUSOLVER_CHECK(cusolverDnXsyevd_bufferSize(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER,
                                                   n, CUDA_R_64F, gram_.get(), n, CUDA_R_64F, eig_.get(), CUDA_R_64F,
                                                   &device, &host));
  eig_work_bytes_ = std::max<std::size_t>(device, 1);
  if (host > host_work_.size()) {
    ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));  // (a call still queued may use the old buffer)
    host_work_.resize(host);
  }
  return device;
}

void SingularValues::gram(const float* a, int m, int n, int count, float* sv, int* info) {
  const std::size_t per = std::size_t(m) * std::size_t(n), nn = std::size_t(n) * std::size_t(n);
  if (m != m_ || n != n_) {
    // FP64 scratch per matrix: the widened matrix, its Gram matrix and eigenvalues.
    const std::size_t per_bytes = (per + nn + std::size_t(n)) * sizeof(double);
    int group = int(std::clamp<std::size_t>(gram_scratch_bytes_ / per_bytes, 1, 4096));
    // XsyevBatched: n * lda * batch must fit in int32 (cuSOLVER's documented limit).
    if (solver_ == SvdSolver::GramBatched)
      group = int(std::max<std::size_t>(1, std::min<std::size_t>(group, std::size_t(INT32_MAX) / nn)));
    else
      group = std::min(group, 16);  // one Xsyevd call per matrix: the group only batches the DGEMM
    m_ = n_ = -1;  // unsized until the end (should an allocation below throw, the next call sizes again)
    gram_.reserve(std::size_t(group) * nn);
    eig_.reserve(std::size_t(group) * std::size_t(n));
    // The solver's workspace counts against the same scratch: fewer per group while it does not fit.
    while (group > 1 && size_eigen_workspace(n, group) + std::size_t(group) * per_bytes > gram_scratch_bytes_)
      group = std::max(1, group / 2);
    if (group == 1) size_eigen_workspace(n, group);
    wide_.reserve(std::size_t(group) * per);
    eig_work_.reserve(eig_work_bytes_);
    group_ = group;
    m_ = m;
    n_ = n;
  }
  const double one = 1.0, zero = 0.0;
  for (int first = 0; first < count; first += group_) {
    const int g = std::min(group_, count - first);
    launch_widen(a + std::size_t(first) * per, wide_.get(), uint64_t(g) * per, stream_);
    // G_i = A_i^T A_i: n x n, column-major (lda = m, ldc = n); only its lower triangle is read. One
    // DGEMM per matrix, not a batched call: cuBLAS picks its kernel (split-K, hence the order of the
    // sums) from the shape and, batched, from the batch count too, which would make a matrix's bits
    // depend on how many share its chunk. At ~2 m n^2 FP64 flops a call is not launch-bound.
    for (int i = 0; i < g; ++i)
      ISC_CUBLAS_CHECK(cublasDgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, n, n, m, &one, wide_.get() + std::size_t(i) * per,
                                   m, wide_.get() + std::size_t(i) * per, m, &zero, gram_.get() + std::size_t(i) * nn,
                                   n));
    if (solver_ == SvdSolver::GramBatched) {
      ISC_CUSOLVER_CHECK(
          cusolverDnXsyevBatched(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F,
                                 gram_.get(), n, CUDA_R_64F, eig_.get(), CUDA_R_64F, eig_work_.get(), eig_work_bytes_,
                                 host_work_.empty() ? nullptr : host_work_.data(), host_work_.size(), info + first, g));
    } else {
      for (int i = 0; i < g; ++i)
        ISC_CUSOLVER_CHECK(cusolverDnXsyevd(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, n,
                                            CUDA_R_64F, gram_.get() + std::size_t(i) * nn, n, CUDA_R_64F,
                                            eig_.get() + std::size_t(i) * n, CUDA_R_64F, eig_work_.get(),
                                            eig_work_bytes_, host_work_.empty() ? nullptr : host_work_.data(),
                                            host_work_.size(), info + first + i));
    }
    launch_singular_values_of_eigenvalues(eig_.get(), n, g, sv + std::size_t(first) * n, info + first, stream_);
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
