// mlp_reference.cpp — forward, back-propagation, SGD and test error of T MLPs, written plainly in double.
#include "host/app/train/mlp_reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "host/app/backends.h"
#include "host/backend/backend.h"

namespace isc {

MlpParams MlpParams::zeros(const MlpShape& s, int trials) {
  MlpParams p;
  p.trials = trials;
  for (int l = 0; l < s.layers(); ++l) {
    p.W.emplace_back(std::size_t(trials) * std::size_t(s.out(l)) * std::size_t(s.in(l)), 0.0f);
    p.b.emplace_back(std::size_t(trials) * std::size_t(s.out(l)), 0.0f);
  }
  return p;
}

MlpParams init_params(const MlpShape& s, const InitSpec& init, uint64_t stream, uint64_t first_trial, int trials) {
  // The CPU backend's own draws (kernels/init.h), layer by layer as the runner issues them.
  auto b = make_backend("cpu", BackendOptions{1, false});
  Chunk ch;
  ch.stream = stream;
  ch.first_trial = first_trial;
  ch.trials = trials;
  ch.samples = 1;
  ch.layers = int(s.hidden.size());
  b->begin_chunk(ch);
  MlpParams p = MlpParams::zeros(s, trials);
  for (int l = 0; l < s.layers(); ++l) {
    auto buf = b->alloc(p.W[std::size_t(l)].size());
    b->init_weights(*buf, resolve_init(init, s.in(l), s.out(l)), l, s.out(l), s.in(l));
    b->download(*buf, p.W[std::size_t(l)].data(), p.W[std::size_t(l)].size());
  }
  b->end_chunk();
  return p;
}

namespace {

void check(const MlpShape& s, const MlpParams& p, const MlpBatch& batch) {
  const std::size_t T = std::size_t(p.trials), B = std::size_t(batch.samples);
  if (int(p.W.size()) != s.layers() || int(p.b.size()) != s.layers())
    throw std::invalid_argument("mlp reference: parameters of another depth");
  if (batch.x.size() != T * B * std::size_t(s.input) || batch.y.size() != T * B)
    throw std::invalid_argument("mlp reference: a batch of another size");
  for (int y : batch.y)
    if (y < 0 || y >= s.classes) throw std::invalid_argument("mlp reference: a label outside the classes");
}

// Every layer's pre-activations s_l and activations h_l (h_0 the input) of trial t, sample by sample:
// s[l] is B x out(l), h[l + 1] = f(s[l]) for hidden layers; the last s is the logits.
struct Forward {
  std::vector<std::vector<double>> s, h;
};

Forward forward(const MlpShape& s, const MlpParams& p, const MlpBatch& batch, int t) {
  const int B = batch.samples, L = s.layers();
  Forward f;
  f.h.emplace_back(batch.x.begin() + std::ptrdiff_t(std::size_t(t) * B * s.input),
                   batch.x.begin() + std::ptrdiff_t(std::size_t(t + 1) * B * s.input));
  for (int l = 0; l < L; ++l) {
    const int n_in = s.in(l), n_out = s.out(l);
    const float* W = p.W[std::size_t(l)].data() + std::size_t(t) * n_out * n_in;
    const float* bias = p.b[std::size_t(l)].data() + std::size_t(t) * n_out;
    std::vector<double> sl(std::size_t(B) * n_out);
    for (int i = 0; i < B; ++i)
      for (int o = 0; o < n_out; ++o) {
        double acc = bias[o];
        for (int k = 0; k < n_in; ++k)
          acc += double(W[std::size_t(o) * n_in + k]) * f.h.back()[std::size_t(i) * n_in + k];
        sl[std::size_t(i) * n_out + o] = acc;
      }
    if (l + 1 < L) {
      std::vector<double> hl(sl.size());
      for (std::size_t k = 0; k < sl.size(); ++k) hl[k] = activate_exact(s.act, sl[k]);
      f.h.push_back(std::move(hl));
    }
    f.s.push_back(std::move(sl));
  }
  return f;
}

// Row i's softmax probabilities (max-subtracted) and -log p_y.
double softmax_row(const double* z, int classes, int y, std::vector<double>& prob) {
  const double m = *std::max_element(z, z + classes);
  double sum = 0;
  for (int c = 0; c < classes; ++c) sum += prob[std::size_t(c)] = std::exp(z[c] - m);
  for (int c = 0; c < classes; ++c) prob[std::size_t(c)] /= sum;
  return -(z[y] - m - std::log(sum));
}

}  // namespace

std::vector<double> mlp_cost_and_gradients(const MlpShape& s, const MlpParams& p, const MlpBatch& batch,
                                           MlpParams* grads) {
  check(s, p, batch);
  const int T = p.trials, B = batch.samples, L = s.layers(), C = s.classes;
  if (grads) *grads = MlpParams::zeros(s, T);
  std::vector<double> cost(std::size_t(T), 0.0);
  std::vector<double> prob(static_cast<std::size_t>(C));
  for (int t = 0; t < T; ++t) {
    const Forward f = forward(s, p, batch, t);
    // dC/dz = (softmax(z) - onehot(y)) / B for the mean over the minibatch.
    std::vector<double> g(std::size_t(B) * C);
    for (int i = 0; i < B; ++i) {
      const int y = batch.y[std::size_t(t) * B + i];
      cost[std::size_t(t)] += softmax_row(&f.s.back()[std::size_t(i) * C], C, y, prob) / B;
      for (int c = 0; c < C; ++c) g[std::size_t(i) * C + c] = (prob[std::size_t(c)] - (c == y ? 1.0 : 0.0)) / B;
    }
    if (!grads) continue;
    // Down the layers: dW_l = g_l^T h_l, db_l = sum_i g_l, dh_l = g_l W_l, g_{l-1} = dh_l * f'(s_{l-1}).
    for (int l = L - 1; l >= 0; --l) {
      const int n_in = s.in(l), n_out = s.out(l);
      const float* W = p.W[std::size_t(l)].data() + std::size_t(t) * n_out * n_in;
      float* dW = grads->W[std::size_t(l)].data() + std::size_t(t) * n_out * n_in;
      float* db = grads->b[std::size_t(l)].data() + std::size_t(t) * n_out;
      const std::vector<double>& h = f.h[std::size_t(l)];
      for (int o = 0; o < n_out; ++o) {
        double bsum = 0;
        for (int i = 0; i < B; ++i) bsum += g[std::size_t(i) * n_out + o];
        db[o] = float(bsum);
        for (int k = 0; k < n_in; ++k) {
          double acc = 0;
          for (int i = 0; i < B; ++i) acc += g[std::size_t(i) * n_out + o] * h[std::size_t(i) * n_in + k];
          dW[std::size_t(o) * n_in + k] = float(acc);
        }
      }
      if (l == 0) break;
      std::vector<double> down(std::size_t(B) * n_in);
      for (int i = 0; i < B; ++i)
        for (int k = 0; k < n_in; ++k) {
          double acc = 0;
          for (int o = 0; o < n_out; ++o) acc += g[std::size_t(i) * n_out + o] * W[std::size_t(o) * n_in + k];
          down[std::size_t(i) * n_in + k] =
              acc * activate_derivative_exact(s.act, f.s[std::size_t(l - 1)][std::size_t(i) * n_in + k]);
        }
      g = std::move(down);
    }
  }
  return cost;
}

void sgd_step(MlpParams& p, const MlpParams& grads, double learning_rate) {
  if (grads.W.size() != p.W.size() || grads.trials != p.trials)
    throw std::invalid_argument("sgd_step: gradients of other parameters");
  auto step = [&](std::vector<float>& x, const std::vector<float>& g) {
    if (g.size() != x.size()) throw std::invalid_argument("sgd_step: gradients of other parameters");
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = float(double(x[k]) - learning_rate * double(g[k]));
  };
  for (std::size_t l = 0; l < p.W.size(); ++l) {
    step(p.W[l], grads.W[l]);
    step(p.b[l], grads.b[l]);
  }
}

std::vector<int> mlp_errors(const MlpShape& s, const MlpParams& p, const MlpBatch& batch) {
  check(s, p, batch);
  const int B = batch.samples, C = s.classes;
  std::vector<int> errors(std::size_t(p.trials), 0);
  for (int t = 0; t < p.trials; ++t) {
    const Forward f = forward(s, p, batch, t);
    for (int i = 0; i < B; ++i) {
      const double* z = &f.s.back()[std::size_t(i) * C];
      const int guess = int(std::max_element(z, z + C) - z);
      errors[std::size_t(t)] += guess != batch.y[std::size_t(t) * B + i];
    }
  }
  return errors;
}

}  // namespace isc
