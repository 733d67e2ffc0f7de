// cuda_backend_impl.h — the CUDA backend's class, shared by its two source files: cuda_backend.cpp
// (device, chunk, forward ops, statistics plumbing) and cuda_backend_backward.cpp (backward diagnostics).
#pragma once
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "cuda/device_array.h"
#include "cuda/gemm.h"
#include "cuda/stats_launch.h"
#include "cuda/svd.h"
#include "host/backend/backend.h"

namespace isc::cuda {

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, bool tf32);
  ~CudaBackend() override;

  std::string name() const override { return "cuda:" + std::to_string(device_); }
  std::string description() const override;
  std::size_t memory_budget() const override;
  // Large chunks keep the GPU busy; the runner lowers this to what fits in memory_budget().
  int preferred_chunk_trials() const override { return 1024; }
  std::unique_ptr<Buffer> alloc(std::size_t floats) override;
  void upload(Buffer& b, const float* host, std::size_t n) override;
  void download(const Buffer& b, float* host, std::size_t n) const override;
  int workers() const override { return 1; }
  std::unique_ptr<Backend> make_worker(int) const override { return nullptr; }
  void bind_thread() override;  // cudaSetDevice(device_) on the calling thread

  void begin_chunk(const Chunk& c) override;
  void fill_input(Buffer& x, DataKind kind, int width) override;
  void init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) override;
  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_out, int n_in) override;
  void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias, int width,
                             int layer) override;
  ChunkStats end_chunk() override;

  // --- backward diagnostics (cuda_backend_backward.cpp) ---
  void add_bias(Buffer& s, float bias, int width, int layer) override;
  void fill_targets(Buffer& y, TargetKind kind, const Buffer& x, int n_in, int classes) override;
  void softmax_nll_grad(const Buffer& z, const Buffer& y, Buffer& g, int classes) override;
  void gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int n_out, int n_in) override;
  void gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int n_out, int n_in) override;
  // f'(s) is evaluated from s (h is not read).
  void activation_grad_stats(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width,
                             int layer) override;
  void stats(const Buffer& x, std::size_t per_trial, Quantity q, int layer) override;
  void jacobian_stats(const Buffer& s, const Buffer& w, const ActivationSpec& act, int n_out, int n_in,
                      int layer) override;

  // --- training: an SGD step (cuda_backend_train.cpp) ---
  void bias_activate(Buffer& s, const Buffer& b, Buffer* h, const ActivationSpec& act, int width) override;
  void activation_grad(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width) override;
  void bias_grad(const Buffer& g, Buffer& db, int width) override;
  void sgd_update(Buffer& p, const Buffer& g, float learning_rate, std::size_t n) override;
  void nll_errors(const Buffer& z, const Buffer& y, int classes, double* nll, int64_t* errors) override;

 private:
  // A statistics launch of quantity q over `per` values per trial of x, for `layer` (nq = 1);
  // sizes the scratch, checks the layer, and records that (layer, q) was measured.
  StatsLaunch stats_launch(int q, const float* x, uint64_t per, int layer);
  // The per-unit bias draws of `layer` (chunk.bias_std > 0), trials x width, in biases_.
  const float* unit_biases(int layer, int width);
  template <class T>
  void copy_back(T* host, const T* dev, std::size_t n);

  int device_;
  // Destroyed after every member below: ~CudaBackend makes device_ current for their teardown
  // (cuBLAS and cuSOLVER handles, cudaFree of the arrays), and this gives the thread its own back.
  struct RestoreDevice {
    int device = -1;
    ~RestoreDevice() {
      if (device >= 0) cudaSetDevice(device);
    }
  } restore_device_;
  cudaDeviceProp prop_{};
  cudaStream_t stream_ = nullptr;
  bool tf32_ = false;
  std::unique_ptr<BatchedGemm> gemm_;
  SvdSolver jacobian_solver_;  // INITSCOPE_JACOBIAN_SOLVER (cuda/svd_solver.h)
  std::unique_ptr<SingularValues> svd_;
  Chunk chunk_;
  std::vector<int64_t> measured_;  // [layer * kQuantities + q]: values per trial, -1: not measured
  StatsSink sink_;
  DeviceArray<Moments> moments_;
  DeviceArray<unsigned long long> counts_, hist_, digits_;
  DeviceArray<float> selected_, biases_;
  DeviceArray<double> pair_corr_;
  DeviceArray<double> percentiles_;
  DeviceArray<TilePartial> partials_;
  // Backward scratch: teacher weights and logits, Jacobian matrices, pooled singular values, devInfo.
  DeviceArray<float> teacher_, logits_, jacobians_, singular_values_;
  DeviceArray<int> svd_info_;
  // Training scratch: each sample's loss and whether it was misclassified.
  DeviceArray<float> losses_;
  DeviceArray<int> wrong_;
};

}  // namespace isc::cuda
