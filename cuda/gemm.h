// gemm.h — the chunk's batched GEMMs (forward, backward data, weight gradient, teacher), one batched
// FP32 call each, with a per-trial result that does not depend on how many trials are batched.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <map>
#include <string>
#include <tuple>

#include "cuda/device_array.h"
#include "cuda/gemm_shapes.h"

namespace isc::cuda {

// Row-major per trial, trials packed back to back; gemm_shapes.h turns each product into cuBLAS's
// column-major terms.
//
// cuBLAS picks its kernel from the whole problem, batch count included, and a kernel that splits
// the dot products (split-K) sums in another order: the same trial could get different bits in a
// chunk of 1 and in a chunk of 1024. So run() uses cublasLt with, per shape, one algorithm chosen
// once (heuristic at a fixed batch count) with split-K forced off, and reuses it for every batch
// count; each output element is then one dot product computed by the same kernel code in the same
// order whatever the batch. When cublasLt offers no such algorithm for a shape, that shape falls
// back to cublasSgemmStridedBatched (path() says which).
class BatchedGemm {
 public:
  // tf32: opt-in TF32 tensor-core GEMMs (10-bit mantissa products, FP32 accumulate): faster,
  // no longer bit-comparable with the CPU's FP32.
  BatchedGemm(cudaStream_t stream, bool tf32);
  ~BatchedGemm();
  BatchedGemm(const BatchedGemm&) = delete;
  BatchedGemm& operator=(const BatchedGemm&) = delete;

  // C = op(A) op(B) for `batch` entries (see GemmShape), pinned algorithm per shape.
  void run(const GemmShape& sh, const float* a, const float* b, float* c, int batch);
  // The plain cublasSgemmStridedBatched call on the same operands.
  void run_classic(const GemmShape& sh, const float* a, const float* b, float* c, int batch);
  // "cublasLt (pinned algorithm id N, tile T, no split-K)" or "cublasSgemmStridedBatched".
  std::string path(const GemmShape& sh);

  // s[t] = h[t] W[t]^T (forward_shape).
  void forward(const float* h, const float* w, float* s, int samples, int n_in, int n_out, int batch) {
    run(forward_shape(samples, n_in, n_out), w, h, s, batch);
  }
  void forward_classic(const float* h, const float* w, float* s, int samples, int n_in, int n_out, int batch) {
    run_classic(forward_shape(samples, n_in, n_out), w, h, s, batch);
  }
  std::string path(int samples, int n_in, int n_out) { return path(forward_shape(samples, n_in, n_out)); }
  // dh[t] = g[t] W[t] (backward_data_shape).
  void backward_data(const float* g, const float* w, float* dh, int samples, int n_out, int n_in, int batch) {
    run(backward_data_shape(samples, n_out, n_in), w, g, dh, batch);
  }
  // dW[t] = g[t]^T h[t] (weight_grad_shape).
  void weight_grad(const float* g, const float* h, float* dw, int samples, int n_out, int n_in, int batch) {
    run(weight_grad_shape(samples, n_out, n_in), h, g, dw, batch);
  }
  // s[t] = h[t] W^T with one W for every t (shared_weight_shape).
  void shared_weight(const float* h, const float* w, float* s, int samples, int n_in, int n_out, int batch) {
    run(shared_weight_shape(samples, n_in, n_out), w, h, s, batch);
  }

 private:
  struct Plan {
    bool pinned = false;
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatmulAlgo_t algo{};
    std::size_t workspace = 0;
    std::string text;
  };
  using Key = decltype(GemmShape{}.key());
  Plan& plan(const GemmShape& sh);

  cudaStream_t stream_;
  bool tf32_ = false;
  cublasHandle_t blas_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  DeviceArray<unsigned char> workspace_;
  std::map<Key, Plan> plans_;
};

}  // namespace isc::cuda
