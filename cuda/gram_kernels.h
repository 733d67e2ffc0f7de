// gram_kernels.h — launchers of the element kernels around the singular-value solvers (cuda/svd.cpp):
// FP32 matrices widened to FP64 for the Gram route, eigenvalues turned into singular values, and
// matrices holding a NaN marked as failed. The per-element math is kernels/jacobian.h
// (singular_value_of_eigenvalue).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace isc::cuda {

// For i < count, k < per: out[i * out_stride + k] = double(in[i * per + k]) (exact). out_stride >= per
// (the solvers pad each matrix to a 256-byte boundary).
void launch_widen(const float* in, uint64_t per, int count, double* out, uint64_t out_stride, cudaStream_t stream);

// For i < count, j < n: sv[i * n + j] = singular_value_of_eigenvalue(eig[i * eig_stride + n - 1 - j]):
// eigenvalues in ascending order (as cuSOLVER's syev* return them) to singular values, descending.
// A NaN eigenvalue sets info[i] to n + 1 where it is 0 (the solver may report success with NaNs).
void launch_singular_values_of_eigenvalues(const double* eig, int n, uint64_t eig_stride, int count, float* sv,
                                           int* info, cudaStream_t stream);

// flags[i] = 1 for every i < count whose matrix a[i * per .. i * per + per) holds a NaN (flags must
// be zeroed before; others are left as they are). As the CPU's check before sgesdd: a solver given a
// NaN may report success with finite values.
void launch_flag_nan_matrices(const float* a, uint64_t per, int count, int* flags, cudaStream_t stream);

// info[i] = code for every i < count with flags[i] != 0 (after the solver has written info).
void launch_fail_flagged(const int* flags, int count, int code, int* info, cudaStream_t stream);

}  // namespace isc::cuda
