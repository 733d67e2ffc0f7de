// check.h — error checks for CUDA runtime, cuBLAS, cuRAND and cuSOLVER calls: throw std::runtime_error
// naming the call, file and line ("cudaMalloc(&p, bytes) failed at cuda/buffer.cu:42: out of memory").
#pragma once
#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <curand.h>
#include <cusolver_common.h>

#include <stdexcept>
#include <string>

namespace isc::cuda {

// __FILE__ relative to the repository ("/src/initscope/cuda/gemm.cpp" -> "cuda/gemm.cpp").
inline std::string repo_path(const char* file) {
  const std::string f = file;
  std::size_t best = std::string::npos;
  for (const char* dir : {"/cuda/", "/host/", "/kernels/", "/tests/"}) {
    const std::size_t p = f.rfind(dir);
    if (p != std::string::npos && (best == std::string::npos || p > best)) best = p;
  }
  return best == std::string::npos ? f : f.substr(best + 1);
}

// The message every failed check throws with.
inline std::string check_message(const char* call, const char* file, int line, const char* reason) {
  return std::string(call) + " failed at " + repo_path(file) + ":" + std::to_string(line) + ": " + reason;
}

inline const char* curand_status_text(curandStatus_t s) {
  switch (s) {
    case CURAND_STATUS_SUCCESS: return "success";
    case CURAND_STATUS_VERSION_MISMATCH: return "header and library versions do not match";
    case CURAND_STATUS_NOT_INITIALIZED: return "generator not initialized";
    case CURAND_STATUS_ALLOCATION_FAILED: return "memory allocation failed";
    case CURAND_STATUS_TYPE_ERROR: return "generator is the wrong type";
    case CURAND_STATUS_OUT_OF_RANGE: return "argument out of range";
    case CURAND_STATUS_LENGTH_NOT_MULTIPLE: return "length not a multiple of dimension";
    case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED: return "GPU does not have double precision";
    case CURAND_STATUS_LAUNCH_FAILURE: return "kernel launch failure";
    case CURAND_STATUS_PREEXISTING_FAILURE: return "preexisting failure";
    case CURAND_STATUS_INITIALIZATION_FAILED: return "initialization of CUDA failed";
    case CURAND_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case CURAND_STATUS_INTERNAL_ERROR: return "internal library error";
  }
  return "unknown cuRAND status";
}

inline const char* cusolver_status_text(cusolverStatus_t s) {
  switch (s) {
    case CUSOLVER_STATUS_SUCCESS: return "success";
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "library not initialized";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "resource allocation failed";
    case CUSOLVER_STATUS_INVALID_VALUE: return "invalid value";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case CUSOLVER_STATUS_MAPPING_ERROR: return "mapping error";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "execution failed";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "internal library error";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED: return "matrix type not supported";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "not supported";
    case CUSOLVER_STATUS_INVALID_WORKSPACE: return "invalid workspace";
    default: break;
  }
  return "unknown cuSOLVER status";
}

inline void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so that later calls report their own
    throw std::runtime_error(check_message(call, file, line, cudaGetErrorString(e)));
  }
}
inline void check(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(check_message(call, file, line, cublasGetStatusString(s)));
}
inline void check(curandStatus_t s, const char* call, const char* file, int line) {
  if (s != CURAND_STATUS_SUCCESS) throw std::runtime_error(check_message(call, file, line, curand_status_text(s)));
}
inline void check(cusolverStatus_t s, const char* call, const char* file, int line) {
  if (s != CUSOLVER_STATUS_SUCCESS) throw std::runtime_error(check_message(call, file, line, cusolver_status_text(s)));
}

}  // namespace isc::cuda

#define ISC_CUDA_CHECK(call) ::isc::cuda::check(static_cast<cudaError_t>(call), #call, __FILE__, __LINE__)
#define ISC_CUBLAS_CHECK(call) ::isc::cuda::check(static_cast<cublasStatus_t>(call), #call, __FILE__, __LINE__)
#define ISC_CURAND_CHECK(call) ::isc::cuda::check(static_cast<curandStatus_t>(call), #call, __FILE__, __LINE__)
#define ISC_CUSOLVER_CHECK(call) ::isc::cuda::check(static_cast<cusolverStatus_t>(call), #call, __FILE__, __LINE__)
// After a kernel launch: reports a bad launch configuration at once (execution errors surface at
// the next synchronizing call, which is checked too).
#define ISC_CUDA_CHECK_LAUNCH(name) ::isc::cuda::check(cudaGetLastError(), name " launch", __FILE__, __LINE__)
