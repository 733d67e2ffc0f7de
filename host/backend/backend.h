// backend.h — the one interface every compute backend implements (CPU always, CUDA optional).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "host/backend/chunk_stats.h"
#include "host/backend/types.h"
#include "kernels/activations.h"
#include "kernels/init.h"

namespace isc {

// Backend-resident array of floats (host memory for the CPU, device memory for CUDA). Each backend
// only takes its own buffers, and checks their size against what an op needs (require()).
class Buffer {
 public:
  virtual ~Buffer() = default;
  std::size_t size() const { return size_; }

 protected:
  explicit Buffer(std::size_t n) : size_(n) {}
  std::size_t size_;
};

// Throws std::logic_error naming the backend and the operand when b holds fewer than `floats`.
void require(const Buffer& b, std::size_t floats, const char* backend, const char* what);

// A chunk of consecutive trials of one configuration; all ops below work on such a chunk, with
// trial-major layouts: x[t][sample][unit], W[t][out][in].
struct Chunk {
  uint64_t stream = 0;  // Philox key of the configuration
  uint64_t first_trial = 0;
  int trials = 0;
  int samples = 0;
  int layers = 0;  // hidden layers with statistics
  StatsSpec stats;
  // > 0: unit j's bias is add_rn(bias, draw_j) with draw_j element j of the Normal(0, bias_std^2)
  // draws (kernels/init.h draw4) of stream (stream, bias_subsequence(trial, layer)).
  float bias_std = 0.0f;
  // Inputs come in pairs (2k, 2k+1): x_{2k+1} <- rho x_{2k} + sqrt(1 - rho^2) x_{2k+1} (gaussian data).
  float pair_correlation = 0.0f;
};

// What a worker's memory beside its workspace depends on (Backend::worker_overhead_bytes).
struct WorkerShape {
  std::size_t largest_array = 0;    // floats of the largest array one trial's statistics are taken of
  int jacobian_rows = 0;            // the largest layer Jacobian (n_out x n_in) with its singular
  int jacobian_cols = 0;            // values asked for; 0 x 0 without them
  std::size_t jacobian_values = 0;  // floats of one trial's singular values (of every sample)
  std::size_t gemm_operands = 0;    // floats of the largest GEMM's three operands, for one trial
};

// Every op is pure virtual: each backend implements all of them. Layer shapes are always given as
// (n_out, n_in), W's shape. Ops are queued in order; download() waits for them.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;         // "cpu", "cuda:0"
  virtual std::string description() const = 0;  // device model, threads, memory
  // Bytes the runner may plan with (free memory, or the configured cap).
  virtual std::size_t memory_budget() const = 0;
  // Bytes one worker holds beside its workspace buffers, in the memory memory_budget() is of:
  // scratch of the statistics, solver workspaces. The memory plan counts it once per worker.
  virtual std::size_t worker_overhead_bytes(const WorkerShape& /*shape*/) const { return 0; }
  // Trials per chunk (per worker) when the config leaves it to the runner (memory may lower it).
  virtual int preferred_chunk_trials() const = 0;
  // Independent workers the runner may drive at once, each from its own host thread with its own
  // chunks and workspace, through a backend from make_worker(i), i < workers(). The CPU has one per
  // thread, so that no thread waits for another between ops; a GPU has one (make_worker gives
  // nullptr: the runner drives the backend itself); several devices have all of theirs.
  virtual int workers() const = 0;
  virtual std::unique_ptr<Backend> make_worker(int index) const = 0;
  // Called once by each host thread that drives this backend (a worker thread), before any op:
  // a GPU makes its device the thread's current one. Nothing for the CPU.
  virtual void bind_thread() {}

  // --- memory ---
  virtual std::unique_ptr<Buffer> alloc(std::size_t floats) = 0;
  // b[0..n) <- host[0..n), after every op queued before.
  virtual void upload(Buffer& b, const float* host, std::size_t n) = 0;
  // host[0..n) <- b[0..n), after every op queued before.
  virtual void download(const Buffer& b, float* host, std::size_t n) const = 0;

  // --- a chunk ---
  // Starts a chunk: its statistics (ChunkStats) live in the backend until end_chunk() returns them.
  virtual void begin_chunk(const Chunk& c) = 0;
  virtual ChunkStats end_chunk() = 0;

  // --- forward ---
  // x <- the input batch of every trial of the chunk (samples x width each).
  virtual void fill_input(Buffer& x, DataKind kind, int width) = 0;
  // w <- weights of hidden/output layer `layer` for every trial (n_out x n_in each).
  virtual void init_weights(Buffer& w, const LayerDraw& d, int layer, int n_out, int n_in) = 0;
  // s[t] = h[t] (samples x n_in) * w[t]^T (n_in x n_out), for every trial.
  virtual void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_out, int n_in) = 0;
  // s += bias; h = f(s); statistics of s and h for hidden layer `layer` (0-based), and the
  // pre-activations' input-pair cosines.
  virtual void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& act, float bias, int width,
                                     int layer) = 0;
  // Singular values of J = diag(f'(s[j])) W (n_out x n_in) for the first stats.jacobian_samples
  // samples j of every trial, pooled, as layer `layer`'s jacobian_singular_value.
  virtual void jacobian_stats(const Buffer& s, const Buffer& w, const ActivationSpec& act, int n_out, int n_in,
                              int layer) = 0;

  // --- backward ---
  // s += bias (per unit when chunk.bias_std > 0), no activation, no statistics: the output layer
  // (layer index = hidden layers) logits.
  virtual void add_bias(Buffer& s, float bias, int width, int layer) = 0;
  // y <- one target class per sample of every trial, stored as float: uniformly random classes
  // or the argmax of a fixed random linear teacher applied to the inputs x (samples x n_in).
  virtual void fill_targets(Buffer& y, TargetKind kind, const Buffer& x, int n_in, int classes) = 0;
  // g <- (softmax(z) - onehot(y)) / samples: dC/dz of the mean negative log-likelihood.
  virtual void softmax_nll_grad(const Buffer& z, const Buffer& y, Buffer& g, int classes) = 0;
  // dh[t] = g[t] (samples x n_out) * W[t] (n_out x n_in).
  virtual void gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int n_out, int n_in) = 0;
  // dw[t] = g[t]^T (n_out x samples) * h[t] (samples x n_in).
  virtual void gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int n_out, int n_in) = 0;
  // g <- g * f'(s) in place, then (if enabled) statistics of g as layer `layer`'s backprop_gradient.
  // h = f(s), as the forward pass left it (a backend may take f'(s) from it: Act::df_h).
  virtual void activation_grad_stats(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width,
                                     int layer) = 0;
  // Statistics of x (per_trial values per trial) as quantity q of layer `layer`.
  virtual void stats(const Buffer& x, std::size_t per_trial, Quantity q, int layer) = 0;

  // --- training (an SGD step on the chunk's minibatch: chunk.samples examples per trial) ---
  // s[t][i][j] += b[t][j] (each trial's bias vector of `width`), then h = f(s) unless h is null (the
  // output layer's logits). No statistics.
  virtual void bias_activate(Buffer& s, const Buffer& b, Buffer* h, const ActivationSpec& act, int width) = 0;
  // g <- g * f'(s) in place, h = f(s) as bias_activate left it. No statistics.
  virtual void activation_grad(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& act, int width) = 0;
  // db[t][j] = the sum over samples i, in sample order, of g[t][i][j].
  virtual void bias_grad(const Buffer& g, Buffer& db, int width) = 0;
  // p[k] <- p[k] - learning_rate * g[k] for k < n (kernels/train.h sgd_element).
  virtual void sgd_update(Buffer& p, const Buffer& g, float learning_rate, std::size_t n) = 0;
  // Per trial t: nll[t] = the sum in double, in sample order, of each sample's -log softmax(z)_y (a
  // float, kernels/train.h), and errors[t] = the samples whose first arg-max is not y. Waits for the
  // ops before it.
  virtual void nll_errors(const Buffer& z, const Buffer& y, int classes, double* nll, int64_t* errors) = 0;
};

struct BackendOptions {
  int threads = 0;    // CPU threads, 0 = all cores
  bool tf32 = false;  // CUDA GEMMs on TF32 tensor cores (run.precision = "tf32"); CPU: no effect
};

}  // namespace isc
