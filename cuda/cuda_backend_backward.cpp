// cuda_backend_backward.cpp — the CUDA backend's backward-diagnostics ops: output bias, targets, softmax
// gradient, backward GEMMs, g * f'(s) with the gradient statistics, statistics of any array, and
// the layer Jacobians' singular values (cuSOLVER). Per-element math: kernels/ (shared with the CPU).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "cuda/backward_kernels.h"
#include "cuda/cuda_backend_impl.h"
#include "cuda/device_buffer.h"
#include "cuda/draw.h"
#include "cuda/layer_stats.h"
#include "cuda/percentiles.h"
#include "kernels/jacobian.h"
#include "kernels/loss.h"

namespace isc::cuda {

namespace {
// Jacobian matrices built and decomposed per group: at most this much scratch (at least one matrix).
constexpr std::size_t kJacobianScratchFloats = std::size_t(32) << 20;  // 128 MiB
}  // namespace

void CudaBackend::add_bias(Buffer& s, float bias, int width, int layer) {
  const std::size_t n = std::size_t(chunk_.trials) * std::size_t(chunk_.samples) * std::size_t(width);
  require(s, n, "CUDA", "logits");
  if (layer < 0) throw std::out_of_range("add_bias: negative layer");
  const float* draws = chunk_.bias_std > 0.0f ? unit_biases(layer, width) : nullptr;
  launch_add_bias(device_ptr(s), chunk_.trials, chunk_.samples, width, bias, draws, stream_);
}

void CudaBackend::fill_targets(Buffer& y, TargetKind kind, const Buffer& x, int n_in, int classes) {
  const std::size_t T = std::size_t(chunk_.trials), B = std::size_t(chunk_.samples);
  if (classes < 1) throw std::invalid_argument("fill_targets: classes must be >= 1");
  require(y, T * B, "CUDA", "targets");
  if (kind == TargetKind::Random) {
    launch_random_targets(device_ptr(y), chunk_.stream, chunk_.first_trial, chunk_.trials, chunk_.samples, classes,
                          stream_);
    return;
  }
  // Teacher: one fixed classes x n_in map, N(0, 1/n_in), from teacher_subsequence() (every trial's),
  // the logits by a batched GEMM with the teacher shared (stride 0), then the first argmax per row.
  // The teacher's weights are the CPU's bits, but cuBLAS rounds the logits differently from OpenBLAS
  // (and in TF32 with run.precision = "tf32"), so a sample whose two largest logits lie within that
  // rounding of each other may get the other class than on the CPU (tests/test_backend_ops.cpp
  // bounds every such flip).
  require(x, T * B * std::size_t(n_in), "CUDA", "teacher input");
  const std::size_t tw = std::size_t(classes) * std::size_t(n_in);
  teacher_.reserve(std::max<std::size_t>(tw, 1));
  launch_draws(teacher_.get(), LayerDraw{DrawKind::Normal, float(1.0 / std::sqrt(double(n_in)))}, chunk_.stream, 0,
               DrawStream::Teacher, 0, 1, tw, stream_);
  logits_.reserve(std::max<std::size_t>(T * B * std::size_t(classes), 1));
  gemm_->shared_weight(device_ptr(x), teacher_.get(), logits_.get(), chunk_.samples, n_in, classes, chunk_.trials);
  launch_argmax_targets(logits_.get(), device_ptr(y), T * B, classes, stream_);
}

void CudaBackend::softmax_nll_grad(const Buffer& z, const Buffer& y, Buffer& g, int classes) {
  const std::size_t rows = std::size_t(chunk_.trials) * std::size_t(chunk_.samples);
  require(z, rows * std::size_t(classes), "CUDA", "logits");
  require(y, rows, "CUDA", "targets");
  require(g, rows * std::size_t(classes), "CUDA", "logit gradient");
  const float inv_b = mean_nll_scale(chunk_.samples);
  launch_softmax_nll_grad(device_ptr(z), device_ptr(y), device_ptr(g), rows, classes, inv_b, stream_);
}

void CudaBackend::gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int n_out, int n_in) {
  const std::size_t T = std::size_t(chunk_.trials), B = std::size_t(chunk_.samples);
  require(g, T * B * std::size_t(n_out), "CUDA", "backward gradient");
  require(w, T * std::size_t(n_out) * std::size_t(n_in), "CUDA", "backward weight");
  require(dh, T * B * std::size_t(n_in), "CUDA", "backward output");
  gemm_->backward_data(device_ptr(g), device_ptr(w), device_ptr(dh), chunk_.samples, n_out, n_in, chunk_.trials);
}

void CudaBackend::gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int n_out, int n_in) {
  const std::size_t T = std::size_t(chunk_.trials), B = std::size_t(chunk_.samples);
  require(g, T * B * std::size_t(n_out), "CUDA", "weight-gradient gradient");
  require(h, T * B * std::size_t(n_in), "CUDA", "weight-gradient input");
  require(dw, T * std::size_t(n_out) * std::size_t(n_in), "CUDA", "weight-gradient output");
  gemm_->weight_grad(device_ptr(g), device_ptr(h), device_ptr(dw), chunk_.samples, n_out, n_in, chunk_.trials);
}

void CudaBackend::activation_grad_stats(Buffer& g, const Buffer& s, const Buffer& /*h*/, const ActivationSpec& act,
                                        int width, int layer) {
  const uint64_t per = uint64_t(chunk_.samples) * uint64_t(width);
  require(g, per * std::size_t(chunk_.trials), "CUDA", "gradient");
  require(s, per * std::size_t(chunk_.trials), "CUDA", "pre-activation");
  const int q = int(Quantity::BackpropGradient);
  if (!chunk_.stats.enabled[q]) {
    launch_mul_activation_derivative(device_ptr(g), device_ptr(s), per * uint64_t(chunk_.trials), act, stream_);
    return;
  }
  StatsLaunch l = stats_launch(q, device_ptr(g), per, layer);
  launch_grad_activation_stats(device_ptr(g), device_ptr(s), act, l, stream_);
  launch_select(l, stream_);
}

void CudaBackend::stats(const Buffer& x, std::size_t per_trial, Quantity q, int layer) {
  if (int(q) < 0 || int(q) >= kQuantities) throw std::out_of_range("stats: bad quantity");
  require(x, per_trial * std::size_t(chunk_.trials), "CUDA", "statistics input");
  const StatsLaunch l = stats_launch(int(q), device_ptr(x), per_trial, layer);
  launch_array_stats(l, stream_);
  launch_select(l, stream_);
}

void CudaBackend::jacobian_stats(const Buffer& s, const Buffer& w, const ActivationSpec& act, int n_out, int n_in,
                                 int layer) {
  const int B = chunk_.samples, J = chunk_.stats.jacobian_samples;
  if (J < 1 || J > B)
    throw std::invalid_argument("jacobian_stats: stats.jacobian_samples = " + std::to_string(J) + " is not in [1, " +
                                std::to_string(B) + "] (samples)");
  if (n_out < 1 || n_in < 1) throw std::invalid_argument("jacobian_stats: empty layer");
  if (layer < 0 || layer >= chunk_.layers) throw std::out_of_range("jacobian_stats: layer out of range");
  const std::size_t T = std::size_t(chunk_.trials);
  require(s, T * std::size_t(B) * std::size_t(n_out), "CUDA", "Jacobian pre-activation");
  require(w, T * std::size_t(n_out) * std::size_t(n_in), "CUDA", "Jacobian weight");
  if (T == 0) return;
  const SvdShape sh = jacobian_svd_shape(n_out, n_in);
  const std::size_t k = std::size_t(sh.n), per_matrix = std::size_t(sh.m) * k;
  const std::size_t matrices = T * std::size_t(J);
  if (matrices > 0x7fffffffull) throw std::runtime_error("jacobian_stats: more than 2^31-1 Jacobians in one chunk");
  if (!svd_) svd_ = std::make_unique<SingularValues>(stream_, jacobian_solver_);
  singular_values_.reserve(matrices * k);
  svd_info_.reserve(matrices);
  const std::size_t group = std::clamp<std::size_t>(kJacobianScratchFloats / per_matrix, 1, matrices);
  jacobians_.reserve(group * per_matrix);
  for (std::size_t first = 0; first < matrices; first += group) {
    const int count = static_cast<int>(std::min(group, matrices - first));
    launch_jacobians(device_ptr(s), device_ptr(w), act, B, n_out, n_in, J, first, count, jacobians_.get(), stream_);
    svd_->compute(jacobians_.get(), sh.m, sh.n, count, singular_values_.get() + first * k, svd_info_.get() + first);
  }
  int value = 0;
  const int bad = svd_->first_failure(svd_info_.get(), static_cast<int>(matrices), &value);
  if (bad >= 0)
    throw std::runtime_error(std::string(svd_->routine()) + " failed on the " + std::to_string(n_out) + "x" +
                             std::to_string(n_in) + " Jacobian of layer " + std::to_string(layer + 1) + ", trial " +
                             std::to_string(chunk_.first_trial + uint64_t(bad / J)) + ", sample " +
                             std::to_string(bad % J) + " (devInfo " + std::to_string(value) +
                             (value == sh.n + 1 ? ": a NaN in the matrix" : "") + ")");
  // Pooled per trial: [j * k + i].
  const StatsLaunch l =
      stats_launch(int(Quantity::JacobianSingularValue), singular_values_.get(), uint64_t(J) * k, layer);
  launch_array_stats(l, stream_);
  launch_select(l, stream_);
}

}  // namespace isc::cuda
