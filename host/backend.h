// backend.h — the one interface every compute backend implements (CPU always, CUDA optional).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/activations.h"
#include "../kernels/init.h"
#include "config.h"
#include "stats.h"

namespace isc {

// The inputs are draws like weights: N(0, 1) or U[-1, 1].
inline LayerDraw input_draw(DataKind k) {
  return k == DataKind::Gaussian ? LayerDraw{DrawKind::Normal, 1.0f} : LayerDraw{DrawKind::Uniform, 1.0f};
}

// Backend-resident array of floats (host memory for the CPU, device memory for CUDA).
class Buffer {
 public:
  virtual ~Buffer() = default;
  std::size_t size() const { return size_; }

 protected:
  explicit Buffer(std::size_t n) : size_(n) {}
  std::size_t size_;
};

// A chunk of consecutive trials of one configuration; all ops below work on such a chunk, with
// trial-major layouts: x[t][sample][unit], W[t][out][in].
struct Chunk {
  uint64_t stream = 0;      // Philox key of the configuration
  uint64_t first_trial = 0;
  int trials = 0;
  int samples = 0;
  int layers = 0;           // hidden layers with statistics
  StatsSpec stats;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;         // "cpu", "cuda:0"
  virtual std::string description() const = 0;  // device model, threads, memory
  // Bytes the runner may plan with (free memory, or the configured cap).
  virtual std::size_t memory_budget() const = 0;
  // Trials per chunk when the config leaves it to the runner (memory may lower it).
  virtual int preferred_chunk_trials() const = 0;
  virtual std::unique_ptr<Buffer> alloc(std::size_t floats) = 0;
  virtual void download(const Buffer& b, float* host, std::size_t n) const = 0;

  // Starts a chunk: statistics live in the backend until end_chunk() returns them.
  virtual void begin_chunk(const Chunk& c) = 0;
  // x <- the input batch of every trial of the chunk (samples x width each).
  virtual void fill_input(Buffer& x, DataKind kind, int width) = 0;
  // w <- weights of hidden/output layer `layer` for every trial (n_out x n_in each).
  virtual void init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) = 0;
  // s[t] = h[t] (samples x n_in) * w[t]^T (n_in x n_out), for every trial.
  virtual void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_in, int n_out) = 0;
  // s += bias; h = f(s); statistics of s and h for hidden layer `layer` (0-based).
  virtual void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias,
                                     int width, int layer) = 0;
  // Per-trial statistics, indexed [(trial * layers + layer) * kForwardQuantities + quantity].
  virtual std::vector<TrialStats> end_chunk() = 0;
};

struct BackendOptions {
  int threads = 0;  // CPU threads, 0 = all cores
};

// Creates a backend from "auto", "cpu", "cuda" or "cuda:N"; throws with the reason if it cannot.
std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& opt);
// Human-readable list of the devices found (for `initscope info`).
std::vector<std::string> describe_devices();
bool cuda_compiled();

}  // namespace isc
