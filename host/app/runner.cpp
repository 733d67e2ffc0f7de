// runner.cpp — the trial loop: chunking, the forward pass through backend ops, stats collection.
#include "host/app/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace isc {

StatsSpec stats_spec(const Config& c) {
  StatsSpec s;
  s.range[int(Quantity::Preactivation)] = c.stats.preactivation_range;
  s.range[int(Quantity::Activation)] = c.stats.activation_range;
  const float u = static_cast<float>(std::log10(1.0 + c.stats.gradient_max / c.stats.gradient_linthresh));
  const HistRange g{-u, u, c.stats.bins, static_cast<float>(c.stats.gradient_linthresh)};
  s.range[int(Quantity::BackpropGradient)] = g;
  s.range[int(Quantity::WeightGradient)] = g;
  s.range[int(Quantity::JacobianSingularValue)] = c.stats.jacobian_range;
  s.percentiles = c.stats.percentiles;
  for (int q = 0; q < kQuantities; ++q) s.enabled[q] = false;
  for (const auto& name : c.stats.quantities) {
    Quantity q;
    if (quantity_from_string(name, &q)) s.enabled[int(q)] = true;
  }
  s.jacobian_samples = c.stats.jacobian_samples;
  return s;
}

bool needs_backward(const Config& c) {
  const StatsSpec s = stats_spec(c);
  return s.enabled[int(Quantity::BackpropGradient)] || s.enabled[int(Quantity::WeightGradient)];
}

MemoryPlan plan_memory(const Config& c, const Backend& b) {
  const auto& n = c.network;
  const WorkspaceSize one = workspace_size(c, 1);
  const std::size_t floats = one.total();
  const std::size_t stat_bytes = n.hidden.size() * kQuantities *
                                 (sizeof(TrialStats) + (c.stats.bins + 2) * sizeof(uint64_t) +
                                  c.stats.percentiles.size() * sizeof(float));
  MemoryPlan p;
  p.per_trial_bytes = floats * sizeof(float) + stat_bytes;
  p.budget_bytes = b.memory_budget();
  if (c.run.memory_limit_mb > 0)
    p.budget_bytes = std::min<std::size_t>(p.budget_bytes, std::size_t(c.run.memory_limit_mb) << 20);
  if (p.per_trial_bytes > p.budget_bytes) {
    throw std::runtime_error("configuration '" + c.name + "' needs " + std::to_string(p.per_trial_bytes >> 20) +
                             " MiB for a single trial (samples x widths), more than the " +
                             std::to_string(p.budget_bytes >> 20) + " MiB available on " + b.name() +
                             " (run.memory_limit_mb or the machine); reduce samples or widths");
  }
  const int64_t fit = static_cast<int64_t>(p.budget_bytes / p.per_trial_bytes);
  const int64_t workers = std::max<int64_t>(std::min<int64_t>({b.workers(), fit, c.trials}), 1);
  // Automatic chunks hold at least ~2^20 floats of workspace, so that small networks do not pay
  // the per-chunk overhead once per trial.
  const int64_t amortize = static_cast<int64_t>((std::size_t(1) << 20) / std::max<std::size_t>(floats, 1));
  int64_t chunk = c.run.chunk_trials > 0 ? c.run.chunk_trials
                                         : std::max<int64_t>(b.preferred_chunk_trials(), amortize);
  chunk = std::min({chunk, fit / workers, (c.trials + workers - 1) / workers});
  p.chunk_trials = static_cast<int>(std::max<int64_t>(chunk, 1));
  p.workers = static_cast<int>(workers);
  return p;
}

WorkspaceSize workspace_size(const Config& c, int trials) {
  const auto& n = c.network;
  const std::size_t B = static_cast<std::size_t>(c.samples), T = static_cast<std::size_t>(trials);
  const std::size_t L = n.hidden.size();
  std::size_t maxw = 0, maxW = 0, prev = static_cast<std::size_t>(n.input);
  for (int w : n.hidden) {
    maxw = std::max<std::size_t>(maxw, w);
    maxW = std::max(maxW, prev * static_cast<std::size_t>(w));
    prev = static_cast<std::size_t>(w);
  }
  WorkspaceSize ws;
  ws.backward = needs_backward(c);
  if (!ws.backward) {  // input/h0, h1, s, w
    ws.floats = {T * B * std::max<std::size_t>(n.input, maxw), T * B * maxw, T * B * maxw, T * maxW};
    return ws;
  }
  // input, s_1..s_L, h_1..h_L, W_1..W_L, W_out, logits, targets, dlogits, dh (two), dW
  const std::size_t C = static_cast<std::size_t>(n.output);
  ws.floats.push_back(T * B * n.input);
  for (std::size_t l = 0; l < L; ++l) ws.floats.push_back(T * B * n.hidden[l]);
  for (std::size_t l = 0; l < L; ++l) ws.floats.push_back(T * B * n.hidden[l]);
  prev = static_cast<std::size_t>(n.input);
  for (std::size_t l = 0; l < L; ++l) {
    ws.floats.push_back(T * prev * n.hidden[l]);
    prev = n.hidden[l];
  }
  ws.floats.push_back(T * C * prev);
  ws.floats.push_back(T * B * C);
  ws.floats.push_back(T * B);
  ws.floats.push_back(T * B * C);
  ws.floats.push_back(T * B * maxw);
  ws.floats.push_back(T * B * maxw);
  ws.floats.push_back(T * maxW);
  return ws;
}

Workspace make_workspace(Backend& b, const WorkspaceSize& size) {
  Workspace ws;
  ws.size = size;
  for (std::size_t f : size.floats) ws.buf.push_back(b.alloc(std::max<std::size_t>(f, 1)));
  return ws;
}

namespace {

Chunk make_chunk(const Config& c, uint64_t stream, uint64_t first_trial, int trials) {
  Chunk ch;
  ch.stream = stream;
  ch.first_trial = first_trial;
  ch.trials = trials;
  ch.samples = c.samples;
  ch.layers = static_cast<int>(c.network.hidden.size());
  ch.stats = stats_spec(c);
  ch.bias_std = static_cast<float>(c.network.bias_std);
  ch.pair_correlation = static_cast<float>(c.pair_correlation);
  return ch;
}

void forward_only(Backend& b, Workspace& ws, const Config& c, const StatsSpec& spec) {
  const auto& n = c.network;
  Buffer& s = *ws.buf[2];
  Buffer& w = *ws.buf[3];
  b.fill_input(*ws.buf[0], c.data, n.input);
  Buffer* in = ws.buf[0].get();
  Buffer* out = ws.buf[1].get();
  int n_in = n.input;
  for (std::size_t l = 0; l < n.hidden.size(); ++l) {
    const int n_out = n.hidden[l];
    b.init_weights(w, resolve_init(n.init, n_in, n_out), static_cast<int>(l), n_out, n_in);
    b.gemm_forward(*in, w, s, n_in, n_out);
    b.bias_activation_stats(s, *out, n.activation, static_cast<float>(n.bias), n_out, static_cast<int>(l));
    if (spec.enabled[int(Quantity::JacobianSingularValue)])
      b.jacobian_stats(s, w, n.activation, n_out, n_in, static_cast<int>(l));
    std::swap(in, out);
    n_in = n_out;
  }
}

void forward_backward(Backend& b, Workspace& ws, const Config& c, const StatsSpec& spec) {
  const auto& n = c.network;
  const int L = static_cast<int>(n.hidden.size());
  const int C = n.output;
  Buffer& x = *ws.buf[0];
  auto S = [&](int l) -> Buffer& { return *ws.buf[static_cast<std::size_t>(1 + l)]; };
  auto H = [&](int l) -> Buffer& { return l < 0 ? x : *ws.buf[static_cast<std::size_t>(1 + L + l)]; };
  auto W = [&](int l) -> Buffer& { return *ws.buf[static_cast<std::size_t>(1 + 2 * L + l)]; };  // l == L: output
  Buffer& z = *ws.buf[static_cast<std::size_t>(2 + 3 * L)];
  Buffer& y = *ws.buf[static_cast<std::size_t>(3 + 3 * L)];
  Buffer& dz = *ws.buf[static_cast<std::size_t>(4 + 3 * L)];
  Buffer* dh = ws.buf[static_cast<std::size_t>(5 + 3 * L)].get();
  Buffer* dh_next = ws.buf[static_cast<std::size_t>(6 + 3 * L)].get();
  Buffer& dw = *ws.buf[static_cast<std::size_t>(7 + 3 * L)].get();
  auto width = [&](int l) { return l < 0 ? n.input : n.hidden[static_cast<std::size_t>(l)]; };
  const float bias = static_cast<float>(n.bias);

  b.fill_input(x, c.data, n.input);
  for (int l = 0; l < L; ++l) {
    b.init_weights(W(l), resolve_init(n.init, width(l - 1), width(l)), l, width(l), width(l - 1));
    b.gemm_forward(H(l - 1), W(l), S(l), width(l - 1), width(l));
    b.bias_activation_stats(S(l), H(l), n.activation, bias, width(l), l);
    if (spec.enabled[int(Quantity::JacobianSingularValue)])
      b.jacobian_stats(S(l), W(l), n.activation, width(l), width(l - 1), l);
  }
  // Output layer: logits z = h_L W_out^T + b, softmax, negative log-likelihood of the targets.
  b.init_weights(W(L), resolve_init(n.init, width(L - 1), C), L, C, width(L - 1));
  b.gemm_forward(H(L - 1), W(L), z, width(L - 1), C);
  b.add_bias(z, bias, C, L);
  b.fill_targets(y, c.targets, x, n.input, C);
  b.softmax_nll_grad(z, y, dz, C);
  // dC/dh_L = dz W_out, then down the layers: dC/ds_l = dC/dh_l * f'(s_l), dC/dW_l = dC/ds_l^T h_{l-1},
  // dC/dh_{l-1} = dC/ds_l W_l.
  b.gemm_backward_data(dz, W(L), *dh, C, width(L - 1));
  for (int l = L - 1; l >= 0; --l) {
    b.activation_grad_stats(*dh, S(l), n.activation, width(l), l);  // dh becomes dC/ds_l
    if (spec.enabled[int(Quantity::WeightGradient)]) {
      b.gemm_weight_grad(*dh, H(l - 1), dw, width(l), width(l - 1));
      b.stats(dw, static_cast<std::size_t>(width(l)) * width(l - 1), Quantity::WeightGradient, l);
    }
    if (l > 0) {
      b.gemm_backward_data(*dh, W(l), *dh_next, width(l), width(l - 1));
      std::swap(dh, dh_next);
    }
  }
}

}  // namespace

std::vector<TrialStats> run_chunk(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial,
                                  int trials) {
  if (!ws.size.covers(workspace_size(c, trials))) throw std::logic_error("run_chunk: workspace too small");
  const Chunk ch = make_chunk(c, stream, first_trial, trials);
  b.begin_chunk(ch);
  if (needs_backward(c)) forward_backward(b, ws, c, ch.stats);
  else forward_only(b, ws, c, ch.stats);
  return b.end_chunk();
}

namespace {

// var_ratio: Var[h_l] / Var[h_{l-1}], with the input's exact variance for l = 1.
void set_var_ratio(std::vector<TrialStats>& st, const Config& c, int trials, int layers) {
  const double input_var = input_variance(c.data);
  auto idx = [&](int t, int layer) {
    return (static_cast<std::size_t>(t) * layers + layer) * kQuantities + int(Quantity::Activation);
  };
  for (int t = 0; t < trials; ++t)
    for (int l = 0; l < layers; ++l) {
      const double prev = l == 0 ? input_var : variance(st[idx(t, l - 1)].m);
      st[idx(t, l)].var_ratio = prev > 0 ? variance(st[idx(t, l)].m) / prev : std::nan("");
    }
}

}  // namespace

std::vector<ConfigResult> run_experiment(const Experiment& ex, Backend& backend, const Progress& progress) {
  // Refuse impossible sizes for every configuration before any work starts.
  std::vector<MemoryPlan> plans;
  for (const auto& p : ex.points) plans.push_back(plan_memory(p.config, backend));
  // Worker backends and their workspaces live for the whole experiment (buffers are reused by the
  // next configuration when large enough).
  std::vector<std::unique_ptr<Backend>> owned;
  std::vector<Backend*> workers{&backend};
  int most = 1;
  for (const auto& p : plans) most = std::max(most, p.workers);
  if (most > 1) {
    workers.clear();
    for (int w = 0; w < most; ++w) {
      owned.push_back(backend.make_worker());
      if (!owned.back()) throw std::logic_error("backend reports workers but makes none");
      workers.push_back(owned.back().get());
    }
  }
  std::vector<Workspace> ws(workers.size());
  std::vector<ConfigResult> results;
  for (std::size_t i = 0; i < ex.points.size(); ++i) {
    const SweepPoint& p = ex.points[i];
    const Config& c = p.config;
    ConfigResult r;
    r.point = &p;
    r.spec = stats_spec(c);
    r.layers = static_cast<int>(c.network.hidden.size());
    r.chunk_trials = plans[i].chunk_trials;
    r.workers = plans[i].workers;
    const auto t0 = std::chrono::steady_clock::now();
    const WorkspaceSize need = workspace_size(c, r.chunk_trials);
    const int64_t chunks = (c.trials + r.chunk_trials - 1) / r.chunk_trials;
    // Each worker takes the next chunk until none is left; results land by chunk index, so the
    // output does not depend on which worker ran what.
    std::vector<std::vector<TrialStats>> out(static_cast<std::size_t>(chunks));
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::exception_ptr error;
    int64_t done = 0;
    auto work = [&](int w) {
      Backend& be = *workers[static_cast<std::size_t>(w)];
      Workspace& space = ws[static_cast<std::size_t>(w)];
      try {
        for (;;) {
          const int64_t k = next.fetch_add(1);
          if (k >= chunks || failed.load()) return;
          if (!space.size.covers(need)) {
            space = Workspace{};  // free first: old and new need not fit together
            space = make_workspace(be, need);
          }
          const int64_t first = k * r.chunk_trials;
          const int n = static_cast<int>(std::min<int64_t>(r.chunk_trials, c.trials - first));
          auto st = run_chunk(be, space, c, p.stream, static_cast<uint64_t>(first), n);
          set_var_ratio(st, c, n, r.layers);
          out[static_cast<std::size_t>(k)] = std::move(st);
          std::lock_guard<std::mutex> lock(mu);
          done += n;
          if (progress) progress(p, done, c.trials);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        failed = true;
      }
    };
    if (r.workers == 1) {
      work(0);
    } else {
      std::vector<std::thread> threads;
      for (int w = 1; w < r.workers; ++w) threads.emplace_back(work, w);
      work(0);
      for (auto& t : threads) t.join();
    }
    if (error) std::rethrow_exception(error);
    r.trials.reserve(static_cast<std::size_t>(c.trials) * r.layers * kQuantities);
    for (auto& st : out)
      for (auto& s : st) r.trials.push_back(std::move(s));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace isc
