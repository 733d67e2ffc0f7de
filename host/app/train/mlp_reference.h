// mlp_reference.h — the readable CPU reference of training: T independent MLPs (softmax output,
// negative log-likelihood), their gradients by back-propagation, plain SGD steps and test error, in
// double precision. What the batched training ops of the backends are compared with (as llm.c keeps
// a CPU reference beside every kernel); not the fast path.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/activations.h"
#include "kernels/init.h"

namespace isc {

// The architecture every trial shares: input -> hidden layers (activation f) -> classes (softmax).
struct MlpShape {
  int input = 0;
  std::vector<int> hidden;
  int classes = 0;
  ActivationSpec act{};
  int layers() const { return int(hidden.size()) + 1; }  // weight layers, the output one included
  int in(int l) const { return l == 0 ? input : hidden[std::size_t(l - 1)]; }
  int out(int l) const { return l < int(hidden.size()) ? hidden[std::size_t(l)] : classes; }
};

// The parameters (or their gradients) of T networks, in the backends' layouts: layer l's weights
// W[l] as T blocks of out(l) x in(l), row-major (row = output unit), biases b[l] as T blocks of out(l).
struct MlpParams {
  int trials = 0;
  std::vector<std::vector<float>> W, b;
  static MlpParams zeros(const MlpShape& s, int trials);
  float& w(const MlpShape& s, int l, int t, int o, int i) {
    return W[std::size_t(l)]
            [(std::size_t(t) * std::size_t(s.out(l)) + std::size_t(o)) * std::size_t(s.in(l)) + std::size_t(i)];
  }
};

// A minibatch per trial: x is T blocks of B x input (row-major), y T blocks of B class labels.
struct MlpBatch {
  int samples = 0;
  std::vector<float> x;
  std::vector<int> y;
};

// Trials' weights as the engine initializes them (trial first_trial + t of stream `stream`, scheme
// `init` resolved per layer), biases 0: training starts from the networks the at-initialization
// statistics describe.
MlpParams init_params(const MlpShape& s, const InitSpec& init, uint64_t stream, uint64_t first_trial, int trials);

// The mean negative log-likelihood over each trial's minibatch (cost[t]) and, if `grads` is given,
// its gradient with respect to every parameter (same layout as the parameters). Double precision
// throughout (parameters and inputs are read as floats).
std::vector<double> mlp_cost_and_gradients(const MlpShape& s, const MlpParams& p, const MlpBatch& batch,
                                           MlpParams* grads);
// theta <- theta - learning_rate * gradient, every parameter of every trial (rounded to float).
void sgd_step(MlpParams& p, const MlpParams& grads, double learning_rate);
// Misclassified examples per trial (the arg-max of the logits against the label; ties: the lower class).
std::vector<int> mlp_errors(const MlpShape& s, const MlpParams& p, const MlpBatch& batch);

}  // namespace isc
