// gram_kernels.cu — element kernels of the Gram-matrix route to singular values: one thread per
// element, grid-stride loops, 64-bit indices.
#include "cuda/check.h"
#include "cuda/gram_kernels.h"
#include "cuda/grid.h"
#include "kernels/jacobian.h"

namespace isc::cuda {
namespace {

__global__ void widen_kernel(const float* in, double* out, uint64_t n) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) out[e] = double(in[e]);
}

__global__ void singular_values_kernel(const double* eig, int n, uint64_t total, float* sv, int* info) {
  for (uint64_t e = first_index(); e < total; e += grid_stride()) {
    const uint64_t i = e / uint64_t(n), j = e % uint64_t(n);
    const double lambda = eig[i * uint64_t(n) + (uint64_t(n) - 1 - j)];
    sv[e] = singular_value_of_eigenvalue(lambda);
    if (lambda != lambda && info[i] == 0) info[i] = n + 1;  // (every writer writes the same value)
  }
}

}  // namespace

void launch_widen(const float* in, double* out, uint64_t n, cudaStream_t stream) {
  if (n == 0) return;
  widen_kernel<<<grid_for(n), kThreads, 0, stream>>>(in, out, n);
  ISC_CUDA_CHECK_LAUNCH("widen_kernel");
}

void launch_singular_values_of_eigenvalues(const double* eig, int n, int count, float* sv, int* info,
                                           cudaStream_t stream) {
  const uint64_t total = uint64_t(n > 0 ? n : 0) * uint64_t(count > 0 ? count : 0);
  if (total == 0) return;
  singular_values_kernel<<<grid_for(total), kThreads, 0, stream>>>(eig, n, total, sv, info);
  ISC_CUDA_CHECK_LAUNCH("singular_values_kernel");
}

}  // namespace isc::cuda
