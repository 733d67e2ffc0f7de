// train_kernels.h — launchers of the CUDA kernels of an SGD step (bias + activation, bias gradient,
// parameter update, per-sample loss and error); their per-element math is kernels/train.h.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/activations.h"

namespace isc::cuda {

// s[t][i][j] += b[t][j] and, if h is not null, h[t][i][j] = f(s[t][i][j]), for trials x samples x width.
void launch_bias_activate(float* s, const float* b, float* h, const ActivationSpec& act, int trials, int samples,
                          int width, cudaStream_t stream);
// db[t][j] = sum over i < samples (in order) of g[t][i][j]: one thread per (t, j).
void launch_bias_grad(const float* g, float* db, int trials, int samples, int width, cudaStream_t stream);
// p[k] = sgd_element(p[k], g[k], learning_rate) for k < n.
void launch_sgd_update(float* p, const float* g, float learning_rate, uint64_t n, cudaStream_t stream);
// Per row r < rows: loss[r] = softmax_nll_row(z + r * classes, y[r]), wrong[r] = misclassified(...).
void launch_nll_errors(const float* z, const float* y, int classes, uint64_t rows, float* loss, int* wrong,
                       cudaStream_t stream);

}  // namespace isc::cuda
