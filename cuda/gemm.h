// gemm.h — the forward GEMM of a chunk, s[t] = h[t] W[t]^T for every trial in one batched FP32
// call, with a per-trial result that does not depend on how many trials are batched.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <map>
#include <string>
#include <tuple>

#include "device_array.h"

namespace isc::cuda {

// Row-major per trial: h[t] is samples x n_in, W[t] is n_out x n_in, s[t] is samples x n_out,
// trials packed back to back (strides samples*n_in, n_out*n_in, samples*n_out).
//
// cuBLAS picks its kernel from the whole problem, batch count included, and a kernel that splits
// the dot products (split-K) sums in another order: the same trial could get different bits in a
// chunk of 1 and in a chunk of 1024. So forward() uses cublasLt with, per shape, one algorithm
// chosen once (heuristic at a fixed batch count) with split-K forced off, and reuses it for every
// batch count; each output element is then one dot product computed by the same kernel code in the
// same order whatever the batch. When cublasLt offers no such algorithm for a shape, that shape
// falls back to cublasSgemmStridedBatched (path() says which).
class BatchedGemm {
 public:
  // tf32: opt-in TF32 tensor-core GEMMs (10-bit mantissa products, FP32 accumulate): faster,
  // no longer bit-comparable with the CPU's FP32.
  BatchedGemm(cudaStream_t stream, bool tf32);
  ~BatchedGemm();
  BatchedGemm(const BatchedGemm&) = delete;
  BatchedGemm& operator=(const BatchedGemm&) = delete;

  void forward(const float* h, const float* w, float* s, int samples, int n_in, int n_out, int batch);
  // The plain cublasSgemmStridedBatched call (CUBLAS_OP_T, CUBLAS_OP_N) on the same operands.
  void forward_classic(const float* h, const float* w, float* s, int samples, int n_in, int n_out, int batch);
  // "cublasLt (pinned algorithm id N, tile T, no split-K)" or "cublasSgemmStridedBatched".
  std::string path(int samples, int n_in, int n_out);

 private:
  struct Plan {
    bool pinned = false;
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatmulAlgo_t algo{};
    std::size_t workspace = 0;
    std::string text;
  };
  Plan& plan(int samples, int n_in, int n_out);

  cudaStream_t stream_;
  bool tf32_ = false;
  cublasHandle_t blas_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  DeviceArray<unsigned char> workspace_;
  std::map<std::tuple<int, int, int>, Plan> plans_;
};

}  // namespace isc::cuda
