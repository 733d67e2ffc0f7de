// cuda_backend_train.cpp — the CUDA backend's ops of an SGD step: bias + activation, g * f'(s), the bias
// gradient, the parameter update, and per-trial loss and errors (summed on the host in sample order,
// as the CPU does). Per-element math: kernels/train.h (shared with the CPU).
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "cuda/backward_kernels.h"
#include "cuda/check.h"
#include "cuda/cuda_backend_impl.h"
#include "cuda/device_buffer.h"
#include "cuda/train_kernels.h"

namespace isc::cuda {

void CudaBackend::bias_activate(Buffer& s, const Buffer& b, Buffer* h, const ActivationSpec& act, int width) {
  const std::size_t n = std::size_t(chunk_.trials) * std::size_t(chunk_.samples) * std::size_t(width);
  require(s, n, "CUDA", "pre-activation");
  require(b, std::size_t(chunk_.trials) * std::size_t(width), "CUDA", "bias");
  if (h) require(*h, n, "CUDA", "activation");
  launch_bias_activate(device_ptr(s), device_ptr(b), h ? device_ptr(*h) : nullptr, act, chunk_.trials, chunk_.samples,
                       width, stream_);
}

void CudaBackend::activation_grad(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width) {
  const std::size_t n = std::size_t(chunk_.trials) * std::size_t(chunk_.samples) * std::size_t(width);
  require(g, n, "CUDA", "gradient");
  require(s, n, "CUDA", "pre-activation");
  require(h, n, "CUDA", "activation");  // (not read: f'(s) from s; checked as the CPU checks it)
  launch_mul_activation_derivative(device_ptr(g), device_ptr(s), n, act, stream_);
}

void CudaBackend::bias_grad(const Buffer& g, Buffer& db, int width) {
  require(g, std::size_t(chunk_.trials) * std::size_t(chunk_.samples) * std::size_t(width), "CUDA", "gradient");
  require(db, std::size_t(chunk_.trials) * std::size_t(width), "CUDA", "bias gradient");
  launch_bias_grad(device_ptr(g), device_ptr(db), chunk_.trials, chunk_.samples, width, stream_);
}

void CudaBackend::sgd_update(Buffer& p, const Buffer& g, float learning_rate, std::size_t n) {
  require(p, n, "CUDA", "parameters");
  require(g, n, "CUDA", "parameter gradient");
  launch_sgd_update(device_ptr(p), device_ptr(g), learning_rate, n, stream_);
}

void CudaBackend::nll_errors(const Buffer& z, const Buffer& y, int classes, double* nll, int64_t* errors) {
  const std::size_t B = std::size_t(chunk_.samples), rows = std::size_t(chunk_.trials) * B;
  require(z, rows * std::size_t(classes), "CUDA", "logits");
  require(y, rows, "CUDA", "targets");
  losses_.reserve(std::max<std::size_t>(rows, 1));
  wrong_.reserve(std::max<std::size_t>(rows, 1));
  launch_nll_errors(device_ptr(z), device_ptr(y), classes, rows, losses_.get(), wrong_.get(), stream_);
  std::vector<float> loss(rows);
  std::vector<int> wrong(rows);
  ISC_CUDA_CHECK(cudaMemcpyAsync(loss.data(), losses_.get(), rows * sizeof(float), cudaMemcpyDeviceToHost, stream_));
  ISC_CUDA_CHECK(cudaMemcpyAsync(wrong.data(), wrong_.get(), rows * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (int t = 0; t < chunk_.trials; ++t) {
    double sum = 0;
    int64_t count = 0;
    for (std::size_t i = 0; i < B; ++i) {
      sum += double(loss[std::size_t(t) * B + i]);
      count += wrong[std::size_t(t) * B + i];
    }
    nll[t] = sum;
    errors[t] = count;
  }
}

}  // namespace isc::cuda
