// gram_kernels.h — launchers of the element kernels around the Gram-matrix route to singular values
// (cuda/svd.cpp): FP32 matrices widened to FP64, and eigenvalues turned into singular values. The
// per-element math is kernels/jacobian.h (singular_value_of_eigenvalue).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace isc::cuda {

// out[e] = double(in[e]) for e < n (exact).
void launch_widen(const float* in, double* out, uint64_t n, cudaStream_t stream);

// For i < count, j < n: sv[i * n + j] = singular_value_of_eigenvalue(eig[i * n + n - 1 - j]):
// eigenvalues in ascending order (as cuSOLVER's syev* return them) to singular values, descending.
// A NaN eigenvalue (a NaN in the matrix: the solver may still report success) sets info[i] to n + 1
// where it is 0, so that the matrix fails as gesvd's and the CPU's do, instead of giving NaNs.
void launch_singular_values_of_eigenvalues(const double* eig, int n, int count, float* sv, int* info,
                                           cudaStream_t stream);

}  // namespace isc::cuda
