// train_step.h — T networks' parameters on a backend and one SGD step of all of them on a minibatch,
// through the backend's ops (the batched fast path; mlp_reference.h is what it is checked against).
#pragma once
#include <memory>
#include <vector>

#include "host/app/train/mlp_reference.h"
#include "host/backend/backend.h"

namespace isc {

// The buffers of a chunk of `trials` networks training on minibatches of `minibatch` examples:
// parameters W[l], b[l] and their gradients (the reference's layouts), every layer's s and h, the
// input x (trials x minibatch x input) and labels y (as floats), and two gradient buffers.
struct TrainState {
  MlpShape shape;
  int trials = 0, minibatch = 0;
  std::vector<std::unique_ptr<Buffer>> W, b, dW, db, s, h;  // h[0] is x
  std::unique_ptr<Buffer> y, g[2];
};
TrainState make_train_state(Backend& be, const MlpShape& shape, int trials, int minibatch);

// The parameters in and out (tests; checkpoints).
void upload_params(Backend& be, TrainState& st, const MlpParams& p);
MlpParams download_params(Backend& be, const TrainState& st);
// A minibatch in: x (trials x minibatch x input) and labels (trials x minibatch).
void upload_batch(Backend& be, TrainState& st, const MlpBatch& batch);

// One SGD step of every trial on the uploaded minibatch: forward (h = f(W h + b)), softmax NLL,
// back-propagation (every gradient before any parameter changes), theta <- theta - rate * g. The
// backend must be inside a chunk of st.trials trials and st.minibatch samples (begin_chunk).
void train_step(Backend& be, TrainState& st, float learning_rate);
// The forward pass alone and each trial's summed NLL and errors on the uploaded minibatch.
void evaluate(Backend& be, TrainState& st, double* nll, int64_t* errors);

}  // namespace isc
