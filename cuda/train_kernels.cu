// train_kernels.cu — the element kernels of an SGD step: one thread per element (per (trial, unit) for
// the bias gradient, per sample for the loss), grid-stride loops, 64-bit indices.
#include <algorithm>

#include "cuda/check.h"
#include "cuda/grid.h"
#include "cuda/train_kernels.h"
#include "kernels/train.h"

namespace isc::cuda {
namespace {

__global__ void bias_activate_kernel(float* s, const float* b, float* h, ActivationSpec act, uint64_t n, int samples,
                                     int width) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) {
    const uint64_t j = e % uint64_t(width), t = e / (uint64_t(samples) * uint64_t(width));
    const float x = add_rn(s[e], b[t * uint64_t(width) + j]);
    s[e] = x;
    if (h) h[e] = activate(act, x);
  }
}

__global__ void bias_grad_kernel(const float* g, float* db, uint64_t n, int samples, int width) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) {
    const uint64_t t = e / uint64_t(width), j = e % uint64_t(width);
    float acc = 0.0f;
    for (int i = 0; i < samples; ++i) acc = add_rn(acc, g[(t * uint64_t(samples) + uint64_t(i)) * uint64_t(width) + j]);
    db[e] = acc;
  }
}

__global__ void sgd_kernel(float* p, const float* g, float learning_rate, uint64_t n) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) p[e] = sgd_element(p[e], g[e], learning_rate);
}

__global__ void nll_errors_kernel(const float* z, const float* y, int classes, uint64_t rows, float* loss, int* wrong) {
  for (uint64_t r = first_index(); r < rows; r += grid_stride()) {
    const float* row = z + r * uint64_t(classes);
    const int label = static_cast<int>(y[r]);
    loss[r] = softmax_nll_row(row, label, classes);
    wrong[r] = misclassified(row, label, classes);
  }
}

}  // namespace

void launch_bias_activate(float* s, const float* b, float* h, const ActivationSpec& act, int trials, int samples,
                          int width, cudaStream_t stream) {
  const uint64_t n = uint64_t(std::max(trials, 0)) * uint64_t(std::max(samples, 0)) * uint64_t(std::max(width, 0));
  if (n == 0) return;
  bias_activate_kernel<<<grid_for(n), kThreads, 0, stream>>>(s, b, h, act, n, samples, width);
  ISC_CUDA_CHECK_LAUNCH("bias_activate_kernel");
}

void launch_bias_grad(const float* g, float* db, int trials, int samples, int width, cudaStream_t stream) {
  const uint64_t n = uint64_t(std::max(trials, 0)) * uint64_t(std::max(width, 0));
  if (n == 0) return;
  bias_grad_kernel<<<grid_for(n), kThreads, 0, stream>>>(g, db, n, samples, width);
  ISC_CUDA_CHECK_LAUNCH("bias_grad_kernel");
}

void launch_sgd_update(float* p, const float* g, float learning_rate, uint64_t n, cudaStream_t stream) {
  if (n == 0) return;
  sgd_kernel<<<grid_for(n), kThreads, 0, stream>>>(p, g, learning_rate, n);
  ISC_CUDA_CHECK_LAUNCH("sgd_kernel");
}

void launch_nll_errors(const float* z, const float* y, int classes, uint64_t rows, float* loss, int* wrong,
                       cudaStream_t stream) {
  if (rows == 0) return;
  nll_errors_kernel<<<grid_for(rows), kThreads, 0, stream>>>(z, y, classes, rows, loss, wrong);
  ISC_CUDA_CHECK_LAUNCH("nll_errors_kernel");
}

}  // namespace isc::cuda
