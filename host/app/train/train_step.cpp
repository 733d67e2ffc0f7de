// train_step.cpp — an SGD step of a chunk of networks as a sequence of backend ops.
#include "host/app/train/train_step.h"

#include <stdexcept>
#include <utility>

namespace isc {
namespace {

std::size_t weights(const MlpShape& s, int l, int trials) {
  return std::size_t(trials) * std::size_t(s.out(l)) * std::size_t(s.in(l));
}
std::size_t units(const MlpShape& s, int l, int trials) { return std::size_t(trials) * std::size_t(s.out(l)); }

void forward(Backend& be, TrainState& st) {
  const MlpShape& s = st.shape;
  const int L = s.layers();
  for (int l = 0; l < L; ++l) {
    be.gemm_forward(*st.h[std::size_t(l)], *st.W[std::size_t(l)], *st.s[std::size_t(l)], s.out(l), s.in(l));
    be.bias_activate(*st.s[std::size_t(l)], *st.b[std::size_t(l)], l + 1 < L ? st.h[std::size_t(l + 1)].get() : nullptr,
                     s.act, s.out(l));
  }
}

}  // namespace

TrainState make_train_state(Backend& be, const MlpShape& shape, int trials, int minibatch) {
  if (trials < 1 || minibatch < 1) throw std::invalid_argument("make_train_state: needs trials and minibatch >= 1");
  TrainState st;
  st.shape = shape;
  st.trials = trials;
  st.minibatch = minibatch;
  const std::size_t T = std::size_t(trials), B = std::size_t(minibatch);
  std::size_t widest = std::size_t(shape.input);
  st.h.push_back(be.alloc(T * B * std::size_t(shape.input)));
  for (int l = 0; l < shape.layers(); ++l) {
    st.W.push_back(be.alloc(weights(shape, l, trials)));
    st.dW.push_back(be.alloc(weights(shape, l, trials)));
    st.b.push_back(be.alloc(units(shape, l, trials)));
    st.db.push_back(be.alloc(units(shape, l, trials)));
    st.s.push_back(be.alloc(T * B * std::size_t(shape.out(l))));
    if (l + 1 < shape.layers()) st.h.push_back(be.alloc(T * B * std::size_t(shape.out(l))));
    widest = std::max(widest, std::size_t(shape.out(l)));
  }
  st.y = be.alloc(T * B);
  st.g[0] = be.alloc(T * B * widest);
  st.g[1] = be.alloc(T * B * widest);
  return st;
}

void upload_params(Backend& be, TrainState& st, const MlpParams& p) {
  if (p.trials != st.trials || int(p.W.size()) != st.shape.layers())
    throw std::invalid_argument("upload_params: parameters of another shape");
  for (int l = 0; l < st.shape.layers(); ++l) {
    be.upload(*st.W[std::size_t(l)], p.W[std::size_t(l)].data(), weights(st.shape, l, st.trials));
    be.upload(*st.b[std::size_t(l)], p.b[std::size_t(l)].data(), units(st.shape, l, st.trials));
  }
}

MlpParams download_params(Backend& be, const TrainState& st) {
  MlpParams p = MlpParams::zeros(st.shape, st.trials);
  for (int l = 0; l < st.shape.layers(); ++l) {
    be.download(*st.W[std::size_t(l)], p.W[std::size_t(l)].data(), p.W[std::size_t(l)].size());
    be.download(*st.b[std::size_t(l)], p.b[std::size_t(l)].data(), p.b[std::size_t(l)].size());
  }
  return p;
}

void upload_batch(Backend& be, TrainState& st, const MlpBatch& batch) {
  const std::size_t rows = std::size_t(st.trials) * std::size_t(st.minibatch);
  if (batch.samples != st.minibatch || batch.y.size() != rows || batch.x.size() != rows * std::size_t(st.shape.input))
    throw std::invalid_argument("upload_batch: a minibatch of another size");
  be.upload(*st.h[0], batch.x.data(), batch.x.size());
  std::vector<float> y(batch.y.begin(), batch.y.end());
  be.upload(*st.y, y.data(), y.size());
}

void train_step(Backend& be, TrainState& st, float learning_rate) {
  const MlpShape& s = st.shape;
  const int L = s.layers();
  forward(be, st);
  Buffer* g = st.g[0].get();
  Buffer* down = st.g[1].get();
  be.softmax_nll_grad(*st.s[std::size_t(L - 1)], *st.y, *g, s.classes);  // dC/dz of the minibatch mean
  for (int l = L - 1; l >= 0; --l) {
    be.gemm_weight_grad(*g, *st.h[std::size_t(l)], *st.dW[std::size_t(l)], s.out(l), s.in(l));
    be.bias_grad(*g, *st.db[std::size_t(l)], s.out(l));
    if (l == 0) break;
    be.gemm_backward_data(*g, *st.W[std::size_t(l)], *down, s.out(l), s.in(l));
    be.activation_grad(*down, *st.s[std::size_t(l - 1)], *st.h[std::size_t(l)], s.act, s.in(l));
    std::swap(g, down);
  }
  for (int l = 0; l < L; ++l) {
    be.sgd_update(*st.W[std::size_t(l)], *st.dW[std::size_t(l)], learning_rate, weights(s, l, st.trials));
    be.sgd_update(*st.b[std::size_t(l)], *st.db[std::size_t(l)], learning_rate, units(s, l, st.trials));
  }
}

void evaluate(Backend& be, TrainState& st, double* nll, int64_t* errors) {
  forward(be, st);
  be.nll_errors(*st.s[std::size_t(st.shape.layers() - 1)], *st.y, st.shape.classes, nll, errors);
}

}  // namespace isc
