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
    // XsyevBatched's default algorithm "may switch between algorithms" (by size, and perhaps by
    // batch size), which would make a matrix's values depend on how many share its call; ALG_1 is
    // documented as one algorithm for all n. Where a cuSOLVER does not take it (a status other than
    // success), the default stays, and GpuSvd.ResultsDoNotDependOnTheBatch tells.
    if (solver_ == SvdSolver::GramBatched)
      (void)cusolverDnSetAdvOptions(params_, CUSOLVERDN_SYEVBATCHED, CUSOLVER_ALG_1);
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

namespace {
// Each matrix the solvers read or write starts on a 256-byte boundary (32 doubles; cudaMalloc's own
// alignment), whatever its position in the batch: cuBLAS (and cuSOLVER through it) chooses kernels,
// hence the order of the sums, by the pointers' alignment too (as cuda/gemm.cpp pins for the
// forward), and a matrix's bits must not depend on the chunk it comes in.
constexpr std::size_t kAlignDoubles = 32;
std::size_t aligned(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
}  // namespace

void SingularValues::compute(const float* a, int m, int n, int count, float* sv, int* info) {
  if (count <= 0) return;
  if (n < 1 || m < n)
    throw std::logic_error("SingularValues: needs m >= n >= 1, got " + std::to_string(m) + " x " + std::to_string(n));
  const std::size_t per = std::size_t(m) * std::size_t(n);
  // A matrix holding a NaN fails with devInfo n + 1, whatever the solver made of it (as the CPU
  // refuses it before sgesdd): flagged before (gesvd works on a copy), applied after.
  nan_.reserve(std::size_t(count));
  ISC_CUDA_CHECK(cudaMemsetAsync(nan_.get(), 0, std::size_t(count) * sizeof(int), stream_));
  launch_flag_nan_matrices(a, per, count, nan_.get(), stream_);
  if (solver_ == SvdSolver::Gesvd)
    gesvd(a, m, n, count, sv, info);
  else
    gram(a, m, n, count, sv, info);
  launch_fail_flagged(nan_.get(), count, n + 1, info, stream_);
}

void SingularValues::gesvd(const float* a, int m, int n, int count, float* sv, int* info) {
  const std::size_t per = std::size_t(m) * std::size_t(n);
  if (m != m_ || n != n_) {
    m_ = n_ = -1;  // unsized until the end (should an allocation below throw, the next call sizes again)
    ISC_CUSOLVER_CHECK(cusolverDnSgesvd_bufferSize(handle_, m, n, &lwork_));
    work_.reserve(std::size_t(lwork_ > 0 ? lwork_ : 1));
    rwork_.reserve(std::size_t(n));  // unconverged superdiagonal elements when info > 0
    copy_.reserve(per);
    m_ = m;
    n_ = n;
  }
  for (int i = 0; i < count; ++i) {
    // Each matrix is copied to the same aligned buffer (gesvd overwrites it), so its bits do not
    // depend on its position in the batch. U and VT are not referenced for 'N'; their leading
    // dimensions still must be valid.
    ISC_CUDA_CHECK(
        cudaMemcpyAsync(copy_.get(), a + std::size_t(i) * per, per * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
    ISC_CUSOLVER_CHECK(cusolverDnSgesvd(handle_, 'N', 'N', m, n, copy_.get(), m, sv + std::size_t(i) * n, nullptr, m,
                                        nullptr, n, work_.get(), lwork_, rwork_.get(), info + i));
  }
}

std::size_t SingularValues::size_eigen_workspace(int n, int group) {
  std::size_t device = 0, host = 0;
  const int64_t ld = int64_t(gram_ld_);
  if (solver_ == SvdSolver::GramBatched)
    ISC_CUSOLVER_CHECK(cusolverDnXsyevBatched_bufferSize(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR,
                                                         CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F, gram_.get(), ld,
                                                         CUDA_R_64F, eig_.get(), CUDA_R_64F, &device, &host, group));
  else
    ISC_CUSOLVER_CHECK(cusolverDnXsyevd_bufferSize(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER,
                                                   n, CUDA_R_64F, gram_.get(), ld, CUDA_R_64F, eig_.get(), CUDA_R_64F,
                                                   &device, &host));
  eig_work_bytes_ = std::max<std::size_t>(device, 1);
  if (host > host_work_.size()) {
    ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));  // (a call still queued may use the old buffer)
    host_work_.resize(host);
  }
  return device;
}

void SingularValues::gram(const float* a, int m, int n, int count, float* sv, int* info) {
  const std::size_t per = std::size_t(m) * std::size_t(n);
  if (m != m_ || n != n_) {
    m_ = n_ = -1;  // unsized until the end (should an allocation below throw, the next call sizes again)
    // Per matrix, each on a 256-byte boundary: the widened matrix (lda = m), its Gram matrix (an
    // n x n block of leading dimension gram_ld_, a multiple of 32: XsyevBatched packs the batch at a
    // stride of lda * n) and its eigenvalues (XsyevBatched packs them at a stride of n).
    wide_stride_ = aligned(per, kAlignDoubles);
    gram_ld_ = aligned(std::size_t(n), kAlignDoubles);
    eig_stride_ = solver_ == SvdSolver::GramBatched ? std::size_t(n) : aligned(std::size_t(n), kAlignDoubles);
    const std::size_t gram_stride = gram_ld_ * std::size_t(n);
    const std::size_t per_bytes = (wide_stride_ + gram_stride + eig_stride_) * sizeof(double);
    int group = int(std::clamp<std::size_t>(gram_scratch_bytes_ / per_bytes, 1, 4096));
    if (solver_ == SvdSolver::GramBatched) {
      // XsyevBatched: n * lda * batch must fit in int32 (cuSOLVER's documented limit).
      if (gram_stride > std::size_t(INT32_MAX))
        throw std::runtime_error("cusolverDnXsyevBatched: a " + std::to_string(n) +
                                 "-column Jacobian is past its size limit; use INITSCOPE_JACOBIAN_SOLVER=gram-syevd");
      group = int(std::min<std::size_t>(std::size_t(group), std::size_t(INT32_MAX) / gram_stride));
    } else {
      group = std::min(group, 16);  // one Xsyevd call per matrix: the group only batches the DGEMM
    }
    gram_.reserve(std::size_t(group) * gram_stride);
    eig_.reserve(std::size_t(group) * eig_stride_);
    // The solver's workspace counts against the same scratch: fewer per group while it does not fit.
    while (group > 1 && size_eigen_workspace(n, group) + std::size_t(group) * per_bytes > gram_scratch_bytes_)
      group = std::max(1, group / 2);
    if (group == 1) size_eigen_workspace(n, group);
    wide_.reserve(std::size_t(group) * wide_stride_);
    eig_work_.reserve(eig_work_bytes_);
    group_ = group;
    m_ = m;
    n_ = n;
  }
  const std::size_t gram_stride = gram_ld_ * std::size_t(n);
  const int64_t ld = int64_t(gram_ld_);
  const double one = 1.0, zero = 0.0;
  for (int first = 0; first < count; first += std::min(group_, count - first)) {
    const int g = std::min(group_, count - first);
    launch_widen(a + std::size_t(first) * per, per, g, wide_.get(), wide_stride_, stream_);
    // G_i = A_i^T A_i: n x n, column-major (lda = m, ldc = gram_ld_); only its lower triangle is
    // read. One DGEMM per matrix, not a batched call: cuBLAS picks its kernel (split-K, hence the
    // order of the sums) from the shape and, batched, from the batch count too, which would make a
    // matrix's bits depend on how many share its chunk. At ~2 m n^2 FP64 flops a call is not
    // launch-bound.
    for (int i = 0; i < g; ++i) {
      const double* wi = wide_.get() + std::size_t(i) * wide_stride_;
      ISC_CUBLAS_CHECK(cublasDgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, n, n, m, &one, wi, m, wi, m, &zero,
                                   gram_.get() + std::size_t(i) * gram_stride, int(ld)));
    }
    if (solver_ == SvdSolver::GramBatched) {
      // cuSOLVER's workspace is sized for one set of arguments, the batch size included (its
      // default algorithm may change with it): a last, smaller group gets its own size.
      if (g != group_) {
        size_eigen_workspace(n, g);
        eig_work_.reserve(eig_work_bytes_);
      }
      ISC_CUSOLVER_CHECK(
          cusolverDnXsyevBatched(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, n, CUDA_R_64F,
                                 gram_.get(), ld, CUDA_R_64F, eig_.get(), CUDA_R_64F, eig_work_.get(), eig_work_bytes_,
                                 host_work_.empty() ? nullptr : host_work_.data(), host_work_.size(), info + first, g));
      if (g != group_) size_eigen_workspace(n, group_);  // (what the next full group is given)
    } else {
      for (int i = 0; i < g; ++i)
        ISC_CUSOLVER_CHECK(cusolverDnXsyevd(handle_, params_, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, n,
                                            CUDA_R_64F, gram_.get() + std::size_t(i) * gram_stride, ld, CUDA_R_64F,
                                            eig_.get() + std::size_t(i) * eig_stride_, CUDA_R_64F, eig_work_.get(),
                                            eig_work_bytes_, host_work_.empty() ? nullptr : host_work_.data(),
                                            host_work_.size(), info + first + i));
    }
    launch_singular_values_of_eigenvalues(eig_.get(), n, eig_stride_, g, sv + std::size_t(first) * n, info + first,
                                          stream_);
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
