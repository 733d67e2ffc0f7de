// backward_kernels.cu — element kernels of the backward diagnostics: one thread per element (or per row
// for the softmax gradient and the teacher's argmax), grid-stride loops, 64-bit indices.
#include <algorithm>

#include "cuda/backward_kernels.h"
#include "cuda/check.h"
#include "cuda/grid.h"
#include "kernels/inputs.h"
#include "kernels/jacobian.h"
#include "kernels/loss.h"
#include "kernels/targets.h"

namespace isc::cuda {
namespace {

__global__ void add_bias_kernel(float* s, uint64_t n, int samples, int width, float bias, const float* draws) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) {
    if (draws) {
      const uint64_t j = e % uint64_t(width), t = e / (uint64_t(samples) * uint64_t(width));
      s[e] = add_unit_bias(s[e], bias, draws[t * uint64_t(width) + j]);
    } else {
      s[e] = add_rn(s[e], bias);
    }
  }
}

__global__ void random_targets_kernel(float* y, uint64_t seed, uint64_t first_trial, uint64_t n, int samples,
                                      int classes) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) {
    const uint64_t t = e / uint64_t(samples), i = e % uint64_t(samples);
    y[e] = random_target(seed, first_trial + t, i, classes);
  }
}

__global__ void argmax_kernel(const float* logits, float* y, uint64_t rows, int classes) {
  for (uint64_t r = first_index(); r < rows; r += grid_stride())
    y[r] = static_cast<float>(argmax_first(logits + r * uint64_t(classes), classes));
}

__global__ void softmax_nll_grad_kernel(const float* z, const float* y, float* g, uint64_t rows, int classes,
                                        float scale) {
  for (uint64_t r = first_index(); r < rows; r += grid_stride()) {
    const uint64_t o = r * uint64_t(classes);
    softmax_nll_grad_row(z + o, static_cast<int>(y[r]), classes, scale, g + o);
  }
}

__global__ void mul_derivative_kernel(float* g, const float* s, uint64_t n, ActivationSpec act) {
  for (uint64_t e = first_index(); e < n; e += grid_stride()) g[e] = grad_times_derivative(act, g[e], s[e]);
}

__global__ void jacobians_kernel(const float* s, const float* w, ActivationSpec act, int samples, int n_out, int n_in,
                                 int jac_samples, uint64_t first, uint64_t n, float* out) {
  const uint64_t per = uint64_t(n_out) * uint64_t(n_in);
  const SvdShape sh = jacobian_svd_shape(n_out, n_in);
  for (uint64_t e = first_index(); e < n; e += grid_stride()) {
    const uint64_t local = e / per, rc = e % per;
    const uint64_t M = first + local, t = M / uint64_t(jac_samples), j = M % uint64_t(jac_samples);
    const int r = int(rc / uint64_t(n_in)), c = int(rc % uint64_t(n_in));
    const float sr = s[(t * uint64_t(samples) + j) * uint64_t(n_out) + uint64_t(r)];
    out[local * per + jacobian_index(sh, r, c)] = jacobian_element(act, sr, w[t * per + rc]);
  }
}

}  // namespace

void launch_add_bias(float* s, int trials, int samples, int width, float bias, const float* unit_draws,
                     cudaStream_t stream) {
  const uint64_t n = uint64_t(std::max(trials, 0)) * uint64_t(std::max(samples, 0)) * uint64_t(std::max(width, 0));
  if (n == 0) return;
  add_bias_kernel<<<grid_for(n), kThreads, 0, stream>>>(s, n, samples, width, bias, unit_draws);
  ISC_CUDA_CHECK_LAUNCH("add_bias_kernel");
}

void launch_random_targets(float* y, uint64_t seed, uint64_t first_trial, int trials, int samples, int classes,
                           cudaStream_t stream) {
  const uint64_t n = uint64_t(std::max(trials, 0)) * uint64_t(std::max(samples, 0));
  if (n == 0) return;
  random_targets_kernel<<<grid_for(n), kThreads, 0, stream>>>(y, seed, first_trial, n, samples, classes);
  ISC_CUDA_CHECK_LAUNCH("random_targets_kernel");
}

void launch_argmax_targets(const float* logits, float* y, uint64_t rows, int classes, cudaStream_t stream) {
  if (rows == 0) return;
  argmax_kernel<<<grid_for(rows), kThreads, 0, stream>>>(logits, y, rows, classes);
  ISC_CUDA_CHECK_LAUNCH("argmax_kernel");
}

void launch_softmax_nll_grad(const float* z, const float* y, float* g, uint64_t rows, int classes, float scale,
                             cudaStream_t stream) {
  if (rows == 0) return;
  softmax_nll_grad_kernel<<<grid_for(rows), kThreads, 0, stream>>>(z, y, g, rows, classes, scale);
  ISC_CUDA_CHECK_LAUNCH("softmax_nll_grad_kernel");
}

void launch_mul_activation_derivative(float* g, const float* s, uint64_t n, const ActivationSpec& act,
                                      cudaStream_t stream) {
  if (n == 0 || act.kind == Activation::Linear) return;  // g * 1: the CPU leaves g as it is
  mul_derivative_kernel<<<grid_for(n), kThreads, 0, stream>>>(g, s, n, act);
  ISC_CUDA_CHECK_LAUNCH("mul_derivative_kernel");
}

void launch_jacobians(const float* s, const float* w, const ActivationSpec& act, int samples, int n_out, int n_in,
                      int jac_samples, uint64_t first, int count, float* out, cudaStream_t stream) {
  const uint64_t n = uint64_t(std::max(count, 0)) * uint64_t(n_out) * uint64_t(n_in);
  if (n == 0) return;
  jacobians_kernel<<<grid_for(n), kThreads, 0, stream>>>(s, w, act, samples, n_out, n_in, jac_samples, first, n, out);
  ISC_CUDA_CHECK_LAUNCH("jacobians_kernel");
}

}  // namespace isc::cuda
