// gram_kernels.cu — element kernels around the singular-value solvers: one thread per element,
// grid-stride loops, 64-bit indices.
#include "cuda/check.h"
#include "cuda/gram_kernels.h"
#include "cuda/grid.h"
#include "kernels/jacobian.h"

namespace isc::cuda {
namespace {

__global__ void widen_kernel(const float* in, uint64_t per, uint64_t total, double* out, uint64_t out_stride) {
  for (uint64_t e = first_index(); e < total; e += grid_stride()) out[(e / per) * out_stride + e % per] = double(in[e]);
}

__global__ void singular_values_kernel(const double* eig, int n, uint64_t eig_stride, uint64_t total, float* sv,
                                       int* info) {
  for (uint64_t e = first_index(); e < total; e += grid_stride()) {
    const uint64_t i = e / uint64_t(n), j = e % uint64_t(n);
    const double lambda = eig[i * eig_stride + (uint64_t(n) - 1 - j)];
    sv[e] = singular_value_of_eigenvalue(lambda);
    if (lambda != lambda && info[i] == 0) info[i] = n + 1;  // (every writer writes the same value)
  }
}

__global__ void flag_nan_kernel(const float* a, uint64_t per, uint64_t total, int* flags) {
  for (uint64_t e = first_index(); e < total; e += grid_stride())
    if (a[e] != a[e]) flags[e / per] = 1;  // (every writer writes the same value)
}

__global__ void fail_flagged_kernel(const int* flags, int count, int code, int* info) {
  for (uint64_t i = first_index(); i < uint64_t(count); i += grid_stride())
    if (flags[i] != 0) info[i] = code;
}

}  // namespace

void launch_widen(const float* in, uint64_t per, int count, double* out, uint64_t out_stride, cudaStream_t stream) {
  const uint64_t total = per * uint64_t(count > 0 ? count : 0);
  if (total == 0) return;
  widen_kernel<<<grid_for(total), kThreads, 0, stream>>>(in, per, total, out, out_stride);
  ISC_CUDA_CHECK_LAUNCH("widen_kernel");
}

void launch_singular_values_of_eigenvalues(const double* eig, int n, uint64_t eig_stride, int count, float* sv,
                                           int* info, cudaStream_t stream) {
  const uint64_t total = uint64_t(n > 0 ? n : 0) * uint64_t(count > 0 ? count : 0);
  if (total == 0) return;
  singular_values_kernel<<<grid_for(total), kThreads, 0, stream>>>(eig, n, eig_stride, total, sv, info);
  ISC_CUDA_CHECK_LAUNCH("singular_values_kernel");
}

void launch_flag_nan_matrices(const float* a, uint64_t per, int count, int* flags, cudaStream_t stream) {
  const uint64_t total = per * uint64_t(count > 0 ? count : 0);
  if (total == 0) return;
  flag_nan_kernel<<<grid_for(total), kThreads, 0, stream>>>(a, per, total, flags);
  ISC_CUDA_CHECK_LAUNCH("flag_nan_kernel");
}

void launch_fail_flagged(const int* flags, int count, int code, int* info, cudaStream_t stream) {
  if (count <= 0) return;
  fail_flagged_kernel<<<grid_for(uint64_t(count)), kThreads, 0, stream>>>(flags, count, code, info);
  ISC_CUDA_CHECK_LAUNCH("fail_flagged_kernel");
}

}  // namespace isc::cuda
