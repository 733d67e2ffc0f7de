// cuda_backend.cpp — the CUDA implementation of the Backend ops: a chunk of trials at a time on
// one stream; statistics stay on the device until end_chunk(). Kernels: draw.cu (weights and
// inputs), gemm.cpp (cuBLAS), layer_stats.cu and percentiles.cu (statistics).
#include "cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "../kernels/rng.h"
#include "check.h"
#include "chunk_results.h"
#include "device_array.h"
#include "device_buffer.h"
#include "draw.h"
#include "gemm.h"
#include "layer_stats.h"
#include "pairs.h"
#include "percentiles.h"

namespace isc {
namespace {

using cuda::DeviceArray;
using cuda::device_ptr;

// Device memory the runner must not plan with: cuBLAS workspaces, the CUDA context's own growth,
// the statistics arrays (a few KiB per trial), per-unit biases and fragmentation.
std::size_t memory_margin(std::size_t total) { return std::max<std::size_t>(std::size_t(768) << 20, total / 20); }

void require(const Buffer& b, std::size_t floats, const char* what) {
  if (b.size() < floats)
    throw std::logic_error(std::string("CUDA backend: ") + what + " buffer holds " + std::to_string(b.size()) +
                           " floats, the chunk needs " + std::to_string(floats));
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, bool tf32) : device_(device), tf32_(tf32) {
    ISC_CUDA_CHECK(cudaSetDevice(device_));
    ISC_CUDA_CHECK(cudaGetDeviceProperties(&prop_, device_));
    // A blocking stream: ordered with the legacy default stream (cudaMemcpy of tests and tools).
    ISC_CUDA_CHECK(cudaStreamCreate(&stream_));
    gemm_ = std::make_unique<cuda::BatchedGemm>(stream_, tf32_);
  }
  ~CudaBackend() override {
    gemm_.reset();
    if (stream_) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
  }

  std::string name() const override { return "cuda:" + std::to_string(device_); }
  std::string description() const override {
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) cudaGetLastError();
    char mem[64];
    std::snprintf(mem, sizeof mem, "%.1f GiB (%.1f GiB free)", double(prop_.totalGlobalMem) / double(1 << 30),
                  double(free) / double(1 << 30));
    return std::string(prop_.name) + ", compute capability " + std::to_string(prop_.major) + "." +
           std::to_string(prop_.minor) + ", " + std::to_string(prop_.multiProcessorCount) + " SMs, " + mem;
  }
  std::size_t memory_budget() const override {
    std::size_t free = 0, total = 0;
    ISC_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    const std::size_t margin = memory_margin(total);
    return free > margin ? free - margin : 0;
  }
  // Large chunks keep the GPU busy; the runner lowers this to what fits in memory_budget().
  int preferred_chunk_trials() const override { return 1024; }

  std::unique_ptr<Buffer> alloc(std::size_t floats) override { return std::make_unique<cuda::DeviceBuffer>(floats); }
  void download(const Buffer& b, float* host, std::size_t n) const override {
    if (n > b.size()) throw std::out_of_range("download: more floats than the buffer holds");
    ISC_CUDA_CHECK(cudaMemcpyAsync(host, device_ptr(b), n * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void begin_chunk(const Chunk& c) override {
    chunk_ = c;
    widths_.assign(std::size_t(std::max(c.layers, 0)), 0);
    const std::size_t pairs = std::size_t(std::max(c.trials, 0)) * std::size_t(std::max(c.layers, 0)) * 2;
    const std::size_t slots = std::size_t(c.stats.range[0].bins) + std::size_t(c.stats.range[1].bins) + 4;
    const std::size_t P = c.stats.percentiles.size();
    moments_.reserve(std::max<std::size_t>(pairs, 1));
    counts_.reserve(std::max<std::size_t>(pairs * 3, 1));
    hist_.reserve(std::max<std::size_t>(pairs / 2 * slots, 1));
    selected_.reserve(std::max<std::size_t>(pairs * 2 * P, 1));
    percentiles_.reserve(std::max<std::size_t>(P, 1));
    digits_.reserve(std::max<std::size_t>(std::size_t(std::max(c.trials, 0)) * 512, 1));
    pair_corr_.reserve(std::max<std::size_t>(pairs / 2, 1));
    if (pairs == 0) return;
    // Layers that never run report zeros, as on the CPU.
    ISC_CUDA_CHECK(cudaMemsetAsync(moments_.get(), 0, pairs * sizeof(Moments), stream_));
    ISC_CUDA_CHECK(cudaMemsetAsync(counts_.get(), 0, pairs * 3 * sizeof(unsigned long long), stream_));
    ISC_CUDA_CHECK(cudaMemsetAsync(hist_.get(), 0, pairs / 2 * slots * sizeof(unsigned long long), stream_));
    if (P)  // chunk_.stats outlives the copy (pageable source: staged before the call returns)
      ISC_CUDA_CHECK(cudaMemcpyAsync(percentiles_.get(), chunk_.stats.percentiles.data(), P * sizeof(double),
                                     cudaMemcpyHostToDevice, stream_));
  }

  void fill_input(Buffer& x, DataKind kind, int width) override {
    const std::size_t per = std::size_t(chunk_.samples) * std::size_t(width);
    require(x, per * std::size_t(chunk_.trials), "input");
    cuda::launch_draws(device_ptr(x), input_draw(kind), chunk_.stream, chunk_.first_trial, cuda::DrawStream::Input, 0,
                       chunk_.trials, per, stream_);
    if (chunk_.pair_correlation != 0.0f) {
      const float rho = chunk_.pair_correlation;
      const float rest = sqrt_rn(sub_rn(1.0f, mul_rn(rho, rho)));  // the CPU's expression
      cuda::launch_mix_pairs(device_ptr(x), chunk_.trials, chunk_.samples, width, rho, rest, stream_);
    }
  }

  void init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) override {
    const std::size_t per = std::size_t(n_out) * std::size_t(n_in);
    require(w, per * std::size_t(chunk_.trials), "weight");
    cuda::launch_draws(device_ptr(w), d, chunk_.stream, chunk_.first_trial, cuda::DrawStream::Weights, layer,
                       chunk_.trials, per, stream_);
  }

  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_in, int n_out) override {
    const std::size_t T = std::size_t(chunk_.trials), B = std::size_t(chunk_.samples);
    require(h, T * B * std::size_t(n_in), "gemm input");
    require(w, T * std::size_t(n_out) * std::size_t(n_in), "gemm weight");
    require(s, T * B * std::size_t(n_out), "gemm output");
    gemm_->forward(device_ptr(h), device_ptr(w), device_ptr(s), chunk_.samples, n_in, n_out, chunk_.trials);
  }

  void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias, int width,
                             int layer) override {
    if (layer < 0 || layer >= chunk_.layers) throw std::out_of_range("bias_activation_stats: layer out of range");
    const uint64_t per = uint64_t(chunk_.samples) * uint64_t(width);
    require(s, per * std::size_t(chunk_.trials), "pre-activation");
    require(h, per * std::size_t(chunk_.trials), "activation");
    widths_[std::size_t(layer)] = width;
    cuda::LayerStatsArgs a;
    a.s = device_ptr(s);
    a.h = device_ptr(h);
    a.trials = chunk_.trials;
    a.per = per;
    a.bias = bias;
    a.width = width;
    if (chunk_.bias_std > 0.0f) {  // per-unit biases N(bias, bias_std^2): the draws, trials x width
      biases_.reserve(std::size_t(chunk_.trials) * std::size_t(width));
      cuda::launch_draws(biases_.get(), LayerDraw{DrawKind::Normal, chunk_.bias_std}, chunk_.stream,
                         chunk_.first_trial, cuda::DrawStream::Bias, layer, chunk_.trials, std::size_t(width), stream_);
      a.unit_bias = biases_.get();
    }
    a.act = act;
    a.count_saturation = has_saturation(act.kind);
    a.range[0] = chunk_.stats.range[0];
    a.range[1] = chunk_.stats.range[1];
    a.layer = layer;
    a.layers = chunk_.layers;
    a.moments = moments_.get();
    a.counts = counts_.get();
    a.hist = hist_.get();
    partials_.reserve(std::size_t(chunk_.trials) * std::size_t(cuda::layer_tiles(per)) * 2);
    a.partials = partials_.get();
    a.digits = digits_.get();
    cuda::launch_layer_stats(a, stream_);

    cuda::SelectArgs sel;
    sel.s = a.s;
    sel.h = a.h;
    sel.trials = chunk_.trials;
    sel.per = per;
    sel.layer = layer;
    sel.layers = chunk_.layers;
    sel.moments = moments_.get();
    sel.digits = digits_.get();
    sel.percentiles = percentiles_.get();
    sel.n_percentiles = static_cast<int>(chunk_.stats.percentiles.size());
    sel.selected = selected_.get();
    cuda::launch_select(sel, stream_);
    // The measured c-map of the pre-activations (always, as the CPU).
    cuda::launch_pair_corr(a.s, chunk_.trials, chunk_.samples, width, pair_corr_.get() + layer,
                           std::size_t(chunk_.layers), stream_);
  }

  std::vector<TrialStats> end_chunk() override {
    const std::size_t pairs = std::size_t(std::max(chunk_.trials, 0)) * std::size_t(std::max(chunk_.layers, 0)) * 2;
    const std::size_t slots =
        std::size_t(chunk_.stats.range[0].bins) + std::size_t(chunk_.stats.range[1].bins) + 4;
    const std::size_t P = chunk_.stats.percentiles.size();
    cuda::ChunkArrays d;
    d.moments.resize(pairs);
    d.counts.resize(pairs * 3);
    d.hist.resize(pairs / 2 * slots);
    d.selected.resize(pairs * 2 * P);
    d.pair_corr.resize(pairs / 2);
    copy_back(d.moments.data(), moments_.get(), d.moments.size());
    copy_back(d.counts.data(), counts_.get(), d.counts.size());
    copy_back(d.hist.data(), hist_.get(), d.hist.size());
    copy_back(d.selected.data(), selected_.get(), d.selected.size());
    copy_back(d.pair_corr.data(), pair_corr_.get(), d.pair_corr.size());
    ISC_CUDA_CHECK(cudaStreamSynchronize(stream_));  // also reports any failed kernel of the chunk
    return cuda::assemble_trial_stats(chunk_, widths_, d);
  }

 private:
  template <class T>
  void copy_back(T* host, const T* dev, std::size_t n) {
    if (n) ISC_CUDA_CHECK(cudaMemcpyAsync(host, dev, n * sizeof(T), cudaMemcpyDeviceToHost, stream_));
  }

  int device_;
  cudaDeviceProp prop_{};
  cudaStream_t stream_ = nullptr;
  bool tf32_ = false;
  std::unique_ptr<cuda::BatchedGemm> gemm_;
  Chunk chunk_;
  std::vector<int> widths_;
  DeviceArray<Moments> moments_;
  DeviceArray<unsigned long long> counts_, hist_, digits_;
  DeviceArray<float> selected_, biases_;
  DeviceArray<double> pair_corr_;
  DeviceArray<double> percentiles_;
  DeviceArray<cuda::TilePartial> partials_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device, const BackendOptions& opt) {
  return std::make_unique<CudaBackend>(device, opt.tf32);
}

}  // namespace isc
