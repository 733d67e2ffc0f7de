// cuda_backend.cpp — the CUDA implementation of the Backend ops: a chunk of trials at a time on
// one stream; statistics stay on the device until end_chunk(). Kernels: draw.cu (weights and
// inputs), gemm.cpp (cuBLAS), layer_stats.cu and percentiles.cu (statistics); the backward ops
// are in cuda_backend_backward.cpp.
#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "cuda/check.h"
#include "cuda/cuda_backend_impl.h"
#include "cuda/device_buffer.h"
#include "cuda/device_scope.h"
#include "cuda/draw.h"
#include "cuda/layer_stats.h"
#include "cuda/pairs.h"
#include "cuda/percentiles.h"
#include "kernels/inputs.h"

namespace isc::cuda {

namespace {
// Device memory the runner must not plan with: cuBLAS and cuSOLVER workspaces, the CUDA context's
// own growth, the statistics arrays (a few KiB per trial), per-unit biases, Jacobian scratch
// (cuda_backend_backward.cpp caps it at 128 MiB; the Gram solvers add up to 192 MiB of FP64
// scratch, cuda/svd.h) and fragmentation.
std::size_t memory_margin(std::size_t total) { return std::max<std::size_t>(std::size_t(768) << 20, total / 20); }
}  // namespace

CudaBackend::CudaBackend(int device, bool tf32)
    : device_(device), tf32_(tf32), jacobian_solver_(svd_solver_from_environment()) {
  ISC_CUDA_CHECK(cudaSetDevice(device_));
  ISC_CUDA_CHECK(cudaGetDeviceProperties(&prop_, device_));
  // A blocking stream: ordered with the legacy default stream (cudaMemcpy of tests and tools).
  ISC_CUDA_CHECK(cudaStreamCreate(&stream_));
  gemm_ = std::make_unique<BatchedGemm>(stream_, tf32_);
}

void CudaBackend::bind_thread() { ISC_CUDA_CHECK(cudaSetDevice(device_)); }

CudaBackend::~CudaBackend() {
  // Torn down on its own device, whichever the destroying thread last used (restore_device_ puts
  // the thread's back after the members are gone).
  int current = 0;
  if (cudaGetDevice(&current) == cudaSuccess && current != device_) {
    if (cudaSetDevice(device_) == cudaSuccess)
      restore_device_.device = current;
    else
      cudaGetLastError();
  }
  gemm_.reset();
  svd_.reset();
  if (stream_) {
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
}

std::string CudaBackend::description() const {
  std::size_t free = 0, total = 0;
  try {
    const DeviceScope on(device_);  // (cudaMemGetInfo reports on the current device)
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) cudaGetLastError();
  } catch (const std::exception&) {  // a description without the free memory
  }
  char mem[64];
  std::snprintf(mem, sizeof mem, "%.1f GiB (%.1f GiB free)", double(prop_.totalGlobalMem) / double(1 << 30),
                double(free) / double(1 << 30));
  return std::string(prop_.name) + ", compute capability " + std::to_string(prop_.major) + "." +
         std::to_string(prop_.minor) + ", " + std::to_string(prop_.multiProcessorCount) + " SMs, " + mem +
         (jacobian_solver_ == SvdSolver::Gesvd ? "" : std::string(", Jacobian solver ") + to_string(jacobian_solver_));
}

std::size_t CudaBackend::memory_budget() const {
  std::size_t free = 0, total = 0;
  const DeviceScope on(device_);  // (cudaMemGetInfo reports on the current device)
  ISC_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  const std::size_t margin = memory_margin(total);
  return free > margin ? free - margin : 0;
}

std::unique_ptr<Buffer> CudaBackend::alloc(std::size_t floats) { return std::make_unique<DeviceBuffer>(floats); }

void CudaBackend::upload(Buffer& b, const float* host, std::size_t n) {
  require(b, n, "CUDA", "upload");
  ISC_CUDA_CHECK(cudaMemcpyAsync(device_ptr(b), host, n * sizeof(float), cudaMemcpyHostToDevice, stream_));
  ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the host array may go away after the call
}

void CudaBackend::download(const Buffer& b, float* host, std::size_t n) const {
  require(b, n, "CUDA", "download");
  ISC_CUDA_CHECK(cudaMemcpyAsync(host, device_ptr(b), n * sizeof(float), cudaMemcpyDeviceToHost, stream_));
  ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaBackend::begin_chunk(const Chunk& c) {
  chunk_ = c;
  const std::size_t T = std::size_t(std::max(c.trials, 0)), L = std::size_t(std::max(c.layers, 0));
  measured_.assign(L * kQuantities, -1);
  const std::size_t cells = T * L * kQuantities;  // (trial, layer, quantity)
  const HistLayout hl = hist_layout(c.stats);
  const std::size_t P = c.stats.percentiles.size();
  moments_.reserve(std::max<std::size_t>(cells, 1));
  counts_.reserve(std::max<std::size_t>(cells * ChunkStats::kCounts, 1));
  hist_.reserve(std::max<std::size_t>(T * L * hl.stride, 1));
  selected_.reserve(std::max<std::size_t>(cells * 2 * P, 1));
  percentiles_.reserve(std::max<std::size_t>(P, 1));
  digits_.reserve(std::max<std::size_t>(T * 2 * 256, 1));
  pair_corr_.reserve(std::max<std::size_t>(T * L, 1));
  sink_ = StatsSink{};
  sink_.moments = moments_.get();
  sink_.counts = counts_.get();
  sink_.hist = hist_.get();
  sink_.selected = selected_.get();
  sink_.percentiles = percentiles_.get();
  sink_.n_percentiles = static_cast<int>(P);
  sink_.layers = c.layers;
  sink_.hist_stride = hl.stride;
  for (int q = 0; q < kQuantities; ++q) sink_.hist_offset[q] = hl.offset[q];
  if (cells == 0) return;
  // Quantities that never run report nothing (measured_ stays -1); the arrays start at zero.
  ISC_CUDA_CHECK(cudaMemsetAsync(moments_.get(), 0, cells * sizeof(Moments), stream_));
  ISC_CUDA_CHECK(cudaMemsetAsync(counts_.get(), 0, cells * ChunkStats::kCounts * sizeof(unsigned long long), stream_));
  ISC_CUDA_CHECK(cudaMemsetAsync(hist_.get(), 0, T * L * hl.stride * sizeof(unsigned long long), stream_));
  // (as ChunkStats::reset on the CPU: a layer without bias_activation_stats, a training chunk's,
  // reports zeros, not what the array held)
  ISC_CUDA_CHECK(cudaMemsetAsync(pair_corr_.get(), 0, T * L * sizeof(double), stream_));
  if (P)  // chunk_.stats outlives the copy (pageable source: staged before the call returns)
    ISC_CUDA_CHECK(cudaMemcpyAsync(percentiles_.get(), chunk_.stats.percentiles.data(), P * sizeof(double),
                                   cudaMemcpyHostToDevice, stream_));
}

void CudaBackend::fill_input(Buffer& x, DataKind kind, int width) {
  const std::size_t per = std::size_t(chunk_.samples) * std::size_t(width);
  require(x, per * std::size_t(chunk_.trials), "CUDA", "input");
  launch_draws(device_ptr(x), input_draw(kind), chunk_.stream, chunk_.first_trial, DrawStream::Input, 0, chunk_.trials,
               per, stream_);
  if (chunk_.pair_correlation != 0.0f) {
    const float rho = chunk_.pair_correlation;
    const float rest = pair_rest(rho);
    launch_mix_pairs(device_ptr(x), chunk_.trials, chunk_.samples, width, rho, rest, stream_);
  }
}

void CudaBackend::init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) {
  const std::size_t per = std::size_t(n_out) * std::size_t(n_in);
  require(w, per * std::size_t(chunk_.trials), "CUDA", "weight");
  launch_draws(device_ptr(w), d, chunk_.stream, chunk_.first_trial, DrawStream::Weights, layer, chunk_.trials, per,
               stream_);
}

void CudaBackend::gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_out, int n_in) {
  const std::size_t T = std::size_t(chunk_.trials), B = std::size_t(chunk_.samples);
  require(h, T * B * std::size_t(n_in), "CUDA", "gemm input");
  require(w, T * std::size_t(n_out) * std::size_t(n_in), "CUDA", "gemm weight");
  require(s, T * B * std::size_t(n_out), "CUDA", "gemm output");
  gemm_->forward(device_ptr(h), device_ptr(w), device_ptr(s), chunk_.samples, n_in, n_out, chunk_.trials);
}

const float* CudaBackend::unit_biases(int layer, int width) {
  biases_.reserve(std::max<std::size_t>(std::size_t(chunk_.trials) * std::size_t(width), 1));
  launch_draws(biases_.get(), LayerDraw{DrawKind::Normal, chunk_.bias_std}, chunk_.stream, chunk_.first_trial,
               DrawStream::Bias, layer, chunk_.trials, std::size_t(width), stream_);
  return biases_.get();
}

StatsLaunch CudaBackend::stats_launch(int q, const float* x, uint64_t per, int layer) {
  if (layer < 0 || layer >= chunk_.layers) throw std::out_of_range("CUDA backend: statistics layer out of range");
  StatsLaunch l;
  l.trials = chunk_.trials;
  l.per = per;
  l.layer = layer;
  l.nq = 1;
  l.target[0] = StatsTarget{x, q, chunk_.stats.range[q], counted_mask(Quantity(q), chunk_.stats.activation)};
  l.act = chunk_.stats.activation;
  l.sink = sink_;
  partials_.reserve(std::max<std::size_t>(std::size_t(chunk_.trials) * std::size_t(layer_tiles(per)) * 2, 1));
  l.partials = partials_.get();
  l.digits = digits_.get();
  measured_[std::size_t(layer) * kQuantities + std::size_t(q)] = int64_t(per);
  return l;
}

void CudaBackend::bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias, int width,
                                        int layer) {
  const uint64_t per = uint64_t(chunk_.samples) * uint64_t(width);
  require(s, per * std::size_t(chunk_.trials), "CUDA", "pre-activation");
  require(h, per * std::size_t(chunk_.trials), "CUDA", "activation");
  BiasActivation op;
  op.s = device_ptr(s);
  op.h = device_ptr(h);
  op.bias = bias;
  op.width = width;
  op.act = act;
  // Per-unit biases N(bias, bias_std^2): the draws, trials x width.
  if (chunk_.bias_std > 0.0f) op.unit_bias = unit_biases(layer, width);
  StatsLaunch l = stats_launch(int(Quantity::Preactivation), op.s, per, layer);
  l.nq = 2;
  l.target[1] = StatsTarget{op.h, int(Quantity::Activation), chunk_.stats.range[1],
                            counted_mask(Quantity::Activation, chunk_.stats.activation)};
  measured_[std::size_t(layer) * kQuantities + std::size_t(Quantity::Activation)] = int64_t(per);
  launch_bias_activation_stats(op, l, stream_);
  launch_select(l, stream_);
  // The measured c-map of the pre-activations (always).
  launch_pair_corr(op.s, chunk_.trials, chunk_.samples, width, pair_corr_.get() + layer, std::size_t(chunk_.layers),
                   stream_);
}

template <class T>
void CudaBackend::copy_back(T* host, const T* dev, std::size_t n) {
  if (n) ISC_CUDA_CHECK(cudaMemcpyAsync(host, dev, n * sizeof(T), cudaMemcpyDeviceToHost, stream_));
}

ChunkStats CudaBackend::end_chunk() {
  ChunkStats d;
  d.reset(chunk_.trials, chunk_.layers, chunk_.stats);
  static_assert(sizeof(uint64_t) == sizeof(unsigned long long), "counts are copied byte for byte");
  copy_back(d.moments.data(), moments_.get(), d.moments.size());
  copy_back(reinterpret_cast<unsigned long long*>(d.counts.data()), counts_.get(), d.counts.size());
  copy_back(reinterpret_cast<unsigned long long*>(d.hist.data()), hist_.get(), d.hist.size());
  copy_back(d.order.data(), selected_.get(), d.order.size());
  copy_back(d.pair_corr.data(), pair_corr_.get(), d.pair_corr.size());
  ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));  // also reports any failed kernel of the chunk
  d.measured = measured_;
  return d;
}

}  // namespace isc::cuda

namespace isc {

std::unique_ptr<Backend> make_cuda_backend(int device, const BackendOptions& opt) {
  return std::make_unique<cuda::CudaBackend>(device, opt.tf32);
}

}  // namespace isc
