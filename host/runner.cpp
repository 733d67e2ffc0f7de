// runner.cpp — the trial loop: chunking, the forward pass through backend ops, stats collection.
#include "runner.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace isc {

StatsSpec stats_spec(const Config& c) {
  StatsSpec s;
  s.range[0] = c.stats.preactivation_range;
  s.range[1] = c.stats.activation_range;
  s.percentiles = c.stats.percentiles;
  return s;
}

MemoryPlan plan_memory(const Config& c, const Backend& b) {
  const auto& n = c.network;
  const WorkspaceSize one = workspace_size(c, 1);
  const std::size_t floats = one.input + 2 * one.hidden + one.weights;
  const std::size_t stat_bytes = n.hidden.size() * kForwardQuantities *
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
  int64_t chunk = c.run.chunk_trials > 0 ? c.run.chunk_trials : b.preferred_chunk_trials();
  chunk = std::min({chunk, fit, c.trials});
  p.chunk_trials = static_cast<int>(std::max<int64_t>(chunk, 1));
  return p;
}

WorkspaceSize workspace_size(const Config& c, int trials) {
  const auto& n = c.network;
  const std::size_t B = static_cast<std::size_t>(c.samples), T = static_cast<std::size_t>(trials);
  std::size_t maxw = 0, maxW = 0, prev = static_cast<std::size_t>(n.input);
  for (int w : n.hidden) {
    maxw = std::max<std::size_t>(maxw, w);
    maxW = std::max(maxW, prev * static_cast<std::size_t>(w));
    prev = static_cast<std::size_t>(w);
  }
  return {T * B * std::max<std::size_t>(n.input, maxw), T * B * maxw, T * maxW};
}

Workspace make_workspace(Backend& b, const WorkspaceSize& size) {
  Workspace ws;
  ws.size = size;
  ws.h0 = b.alloc(size.input);
  ws.h1 = b.alloc(size.hidden);
  ws.s = b.alloc(size.hidden);
  ws.w = b.alloc(size.weights);
  return ws;
}

std::vector<TrialStats> run_chunk(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial,
                                  int trials) {
  if (!ws.size.covers(workspace_size(c, trials))) throw std::logic_error("run_chunk: workspace too small");
  const auto& n = c.network;
  const int L = static_cast<int>(n.hidden.size());
  Chunk ch;
  ch.stream = stream;
  ch.first_trial = first_trial;
  ch.trials = trials;
  ch.samples = c.samples;
  ch.layers = L;
  ch.stats = stats_spec(c);
  Buffer& s = *ws.s;
  Buffer& w = *ws.w;
  b.begin_chunk(ch);
  b.fill_input(*ws.h0, c.data, n.input);
  Buffer* in = ws.h0.get();
  Buffer* out = ws.h1.get();
  int n_in = n.input;
  for (int l = 0; l < L; ++l) {
    const int n_out = n.hidden[static_cast<std::size_t>(l)];
    b.init_weights(w, resolve_init(n.init, n_in, n_out), l, n_out, n_in);
    b.gemm_forward(*in, w, s, n_in, n_out);
    b.bias_activation_stats(s, *out, n.activation, static_cast<float>(n.bias), n_out, l);
    std::swap(in, out);
    n_in = n_out;
  }
  return b.end_chunk();
}

std::vector<ConfigResult> run_experiment(const Experiment& ex, Backend& backend, const Progress& progress) {
  // Refuse impossible sizes for every configuration before any work starts.
  std::vector<MemoryPlan> plans;
  for (const auto& p : ex.points) plans.push_back(plan_memory(p.config, backend));
  std::vector<ConfigResult> results;
  Workspace ws;
  for (std::size_t i = 0; i < ex.points.size(); ++i) {
    const SweepPoint& p = ex.points[i];
    const Config& c = p.config;
    ConfigResult r;
    r.point = &p;
    r.spec = stats_spec(c);
    r.layers = static_cast<int>(c.network.hidden.size());
    r.chunk_trials = plans[i].chunk_trials;
    r.trials.reserve(static_cast<std::size_t>(c.trials) * r.layers * kForwardQuantities);
    const auto t0 = std::chrono::steady_clock::now();
    // Reuse the previous configuration's buffers when they are large enough.
    const WorkspaceSize need = workspace_size(c, r.chunk_trials);
    if (!ws.size.covers(need)) {
      ws = Workspace{};  // free first: old and new need not fit together
      ws = make_workspace(backend, need);
    }
    for (int64_t first = 0; first < c.trials; first += r.chunk_trials) {
      const int n = static_cast<int>(std::min<int64_t>(r.chunk_trials, c.trials - first));
      auto st = run_chunk(backend, ws, c, p.stream, static_cast<uint64_t>(first), n);
      for (auto& s : st) r.trials.push_back(std::move(s));
      if (progress) progress(p, first + n, c.trials);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace isc
