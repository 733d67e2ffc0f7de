// runner.cpp — the trial loop: chunking, the forward pass through backend ops, stats collection.
#include "host/app/runner.h"

#include "host/app/data_source.h"
#include "host/app/init_pipeline.h"
#include "host/app/train/train_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace isc {

StatsSpec stats_spec(const Config& c) {
  StatsSpec s;
  s.range[int(Quantity::Preactivation)] = c.stats.preactivation_range;
  s.range[int(Quantity::Activation)] = c.stats.activation_range;
  const float u = static_cast<float>(std::log10(1.0 + c.stats.gradient_max / c.stats.gradient_linthresh));
  const float m = static_cast<float>(c.stats.gradient_max);
  const HistRange g = c.stats.gradient_linear
                          ? HistRange{-m, m, c.stats.bins, 0.0f}
                          : HistRange{-u, u, c.stats.bins, static_cast<float>(c.stats.gradient_linthresh)};
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
  s.activation = c.network.activation;
  return s;
}

bool needs_backward(const Config& c) {
  const StatsSpec s = stats_spec(c);
  return s.enabled[int(Quantity::BackpropGradient)] || s.enabled[int(Quantity::WeightGradient)];
}

WorkerShape worker_shape(const Config& c) {
  const StatsSpec s = stats_spec(c);
  const std::size_t B = static_cast<std::size_t>(std::max(c.samples, 0));
  WorkerShape w;
  std::size_t prev = static_cast<std::size_t>(c.network.input), jac = 0;
  for (int width : c.network.hidden) {
    const std::size_t n = static_cast<std::size_t>(width), weights = prev * n;
    w.gemm_operands = std::max(w.gemm_operands, B * (prev + n) + weights);
    w.largest_array = std::max(w.largest_array, B * n);  // pre-activations, activations, gradients
    if (s.enabled[int(Quantity::WeightGradient)]) w.largest_array = std::max(w.largest_array, weights);
    if (s.enabled[int(Quantity::JacobianSingularValue)]) {
      const std::size_t values = std::min(prev, n) * static_cast<std::size_t>(std::max(s.jacobian_samples, 0));
      w.largest_array = std::max(w.largest_array, values);
      w.jacobian_values = std::max(w.jacobian_values, values);
      if (weights > jac) {
        jac = weights;
        w.jacobian_rows = width;
        w.jacobian_cols = static_cast<int>(prev);
      }
    }
    prev = n;
  }
  const std::size_t out = static_cast<std::size_t>(std::max(c.network.output, 0));
  w.gemm_operands = std::max(w.gemm_operands, B * (prev + out) + prev * out);
  return w;
}

MemoryPlan plan_memory(const Config& c, const Backend& b, std::size_t held) {
  const auto& n = c.network;
  const WorkspaceSize one = workspace_size(c, 1, c.train.on());
  const std::size_t floats = one.total();
  const std::size_t stat_bytes =
      n.hidden.size() * kQuantities *
      (sizeof(TrialStats) + (c.stats.bins + 2) * sizeof(uint64_t) + c.stats.percentiles.size() * sizeof(float));
  MemoryPlan p;
  // The workspace, and per-trial statistics of kUnfoldedPerWorker chunks per worker: the pipeline
  // keeps no more chunks per worker running or computed and not yet folded in trial order, or
  // kUnfoldedBytes of them (counted in fixed_bytes).
  p.per_trial_bytes = floats * sizeof(float) + std::size_t(kUnfoldedPerWorker) * stat_bytes;
  if (c.train.on()) {
    // The training state on the backend (parameters and their gradients, every layer's s and h on a
    // minibatch, two gradient buffers) and on the host a minibatch and a copy of the parameters
    // (initial ones, and checkpoints).
    std::size_t params = 0, units = 0, prev = std::size_t(n.input), widest = prev;
    for (int w : n.hidden) {
      params += prev * std::size_t(w) + std::size_t(w);
      units += std::size_t(w);
      prev = std::size_t(w);
      widest = std::max(widest, prev);
    }
    params += prev * std::size_t(n.output) + std::size_t(n.output);
    const std::size_t mb = std::size_t(c.train.minibatch);
    const std::size_t state =
        2 * params + mb * (std::size_t(n.input) + 2 * units + std::size_t(n.output) + 1) + 2 * mb * widest;
    p.per_trial_bytes += (state + params + mb * std::size_t(n.input)) * sizeof(float);
  }
  // A data set's examples are copied into the chunk's input (and labels into its targets) from host
  // memory, one copy per trial.
  if (!drawn_input(c.data)) p.per_trial_bytes += std::size_t(c.samples) * (std::size_t(n.input) + 1) * sizeof(float);
  // The across-trial aggregate: every statistic's moments per (layer, quantity) in at most about
  // 2 log2(trials) partial results, and the pooled histograms.
  const std::size_t stats_per_cell = 10 + c.stats.percentiles.size();
  const std::size_t blocks = 2 * (64 - static_cast<std::size_t>(__builtin_clzll(uint64_t(c.trials) | 1))) + 2;
  const std::size_t aggregate = n.hidden.size() * kQuantities *
                                (stats_per_cell * sizeof(Moments) * blocks + (c.stats.bins + 2) * sizeof(uint64_t));
  // The ranges queued for the workers, each with its aggregate: a few, or many when they are small.
  // Many small configurations need a deeper queue: with a range's chunks well under a millisecond,
  // workers waited for the thread that queues them whenever it was off the CPU (2 cores, 4 threads:
  // about 100 waits, 2-3 ms in a 0.35 s sweep of 1,000 configurations; docs/benchmarks.md).
  p.ranges_ahead = aggregate <= (std::size_t(256) << 10) ? 16 : 4;
  // Finished configurations waiting for the results writer: each its statistics' moments (with the
  // tree's partial results, at most popcount(trials) of them) and its histograms.
  const std::size_t finished =
      n.hidden.size() * kQuantities *
      (stats_per_cell * sizeof(Moments) * (2 + std::size_t(__builtin_popcountll(uint64_t(c.trials)))) +
       (c.stats.bins + 2) * sizeof(uint64_t));
  p.budget_bytes = b.memory_budget();
  if (c.run.memory_limit_mb > 0)
    p.budget_bytes = std::min<std::size_t>(p.budget_bytes, std::size_t(c.run.memory_limit_mb) << 20);
  const std::size_t limit = p.budget_bytes;
  p.worker_bytes = b.worker_overhead_bytes(worker_shape(c));
  // Under a tight limit, fewer ranges queued ahead (down to the one running) before a refusal.
  auto fixed_for = [&](int ahead) {
    return std::size_t(ahead) * aggregate + kResultsQueue * finished + kUnfoldedBytes + held;
  };
  while (p.ranges_ahead > 1 && fixed_for(p.ranges_ahead) + p.per_trial_bytes + p.worker_bytes > limit)
    p.ranges_ahead /= 2;
  p.fixed_bytes = fixed_for(p.ranges_ahead);
  p.held_bytes = held;
  p.budget_bytes = p.budget_bytes > p.fixed_bytes ? p.budget_bytes - p.fixed_bytes : 0;
  if (p.per_trial_bytes + p.worker_bytes > p.budget_bytes) {
    auto mib = [](std::size_t bytes) {
      char t[32];
      std::snprintf(t, sizeof t, "%.1f MiB", double(bytes) / double(1 << 20));
      return std::string(t);
    };
    throw std::runtime_error(
        "configuration '" + c.name + "' needs " + mib(p.per_trial_bytes + p.worker_bytes) + " for a single trial (" +
        mib(p.per_trial_bytes) + " of workspace and statistics, " + mib(p.worker_bytes) +
        " of a worker's scratch) and " + mib(p.fixed_bytes) + " for the across-trial aggregates" +
        (held > 0 ? " and the sweep's configurations (" + mib(held) + ")" : std::string()) + ", more than the " +
        mib(limit) + " available on " + b.name() + " (run.memory_limit_mb or the machine); " +
        (held > p.fixed_bytes / 2 ? "sweep fewer values in one run" : "reduce samples or widths") +
        ", or raise the limit");
  }
  // Each worker holds its own overhead and its chunk's workspace.
  const int64_t fit = static_cast<int64_t>(p.budget_bytes / (p.per_trial_bytes + p.worker_bytes));
  const int64_t workers = std::max<int64_t>(std::min<int64_t>({b.workers(), fit, c.trials}), 1);
  const int64_t per_worker_trials =
      static_cast<int64_t>((p.budget_bytes / static_cast<std::size_t>(workers) - p.worker_bytes) / p.per_trial_bytes);
  // Automatic chunks hold at least ~2^20 floats of workspace, so that small networks do not pay
  // the per-chunk overhead once per trial.
  // They are capped so that a chunk's per-trial statistics (host memory, between the backend and
  // the across-trial aggregate) stay within 8 MiB: memory then does not grow with the trial count.
  const int64_t amortize = std::max<int64_t>(
      1, std::min(static_cast<int64_t>((std::size_t(1) << 20) / std::max<std::size_t>(floats, 1)),
                  static_cast<int64_t>((std::size_t(8) << 20) / std::max<std::size_t>(stat_bytes, 1))));
  int64_t chunk = c.run.chunk_trials > 0 ? c.run.chunk_trials : std::max<int64_t>(b.preferred_chunk_trials(), amortize);
  chunk = std::min({chunk, per_worker_trials, (c.trials + workers - 1) / workers});
  p.chunk_trials = static_cast<int>(std::max<int64_t>(chunk, 1));
  p.chunk_stats_bytes = stat_bytes * std::size_t(p.chunk_trials);
  p.workers = static_cast<int>(workers);
  return p;
}

bool WorkspaceSize::covers(const WorkspaceSize& o) const {
  auto ge = [](const std::vector<std::size_t>& a, const std::vector<std::size_t>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] < b[i]) return false;
    return true;
  };
  return backward == o.backward && ge(act, o.act) && ge(pre, o.pre) && ge(weight, o.weight) && logits >= o.logits &&
         targets >= o.targets && dlogits >= o.dlogits && dh >= o.dh && dw >= o.dw;
}

std::size_t WorkspaceSize::total() const {
  std::size_t t = logits + targets + dlogits + 2 * dh + dw;
  for (const auto* v : {&act, &pre, &weight})
    for (std::size_t f : *v) t += f;
  return t;
}

WorkspaceSize workspace_size(const Config& c, int trials, bool trained) {
  const auto& n = c.network;
  const std::size_t B = static_cast<std::size_t>(c.samples), T = static_cast<std::size_t>(trials);
  std::size_t maxw = 0, maxW = 0, prev = static_cast<std::size_t>(n.input);
  for (int w : n.hidden) {
    maxw = std::max<std::size_t>(maxw, w);
    maxW = std::max(maxW, prev * static_cast<std::size_t>(w));
    prev = static_cast<std::size_t>(w);
  }
  WorkspaceSize ws;
  ws.backward = needs_backward(c) || c.train.on();  // training's evaluation needs the logits
  if (!ws.backward) {
    ws.act = {T * B * std::max<std::size_t>(n.input, maxw), T * B * maxw};
    ws.pre = {T * B * maxw};
    ws.weight = {T * maxW};
    return ws;
  }
  const std::size_t C = static_cast<std::size_t>(n.output);
  ws.act.push_back(T * B * n.input);
  prev = static_cast<std::size_t>(n.input);
  for (int w : n.hidden) {
    ws.act.push_back(T * B * w);
    ws.pre.push_back(T * B * w);
    ws.weight.push_back(T * prev * w);
    prev = static_cast<std::size_t>(w);
  }
  ws.weight.push_back(T * C * prev);
  if (trained)
    for (std::size_t& f : ws.weight) f = 1;
  ws.logits = T * B * C;
  ws.targets = T * B;
  ws.dlogits = T * B * C;
  ws.dh = T * B * maxw;
  ws.dw = T * maxW;
  return ws;
}

Workspace make_workspace(Backend& b, const WorkspaceSize& size) {
  Workspace ws;
  ws.size = size;
  auto one = [&](std::size_t f) { return b.alloc(std::max<std::size_t>(f, 1)); };
  for (std::size_t f : size.act) ws.act.push_back(one(f));
  for (std::size_t f : size.pre) ws.pre.push_back(one(f));
  for (std::size_t f : size.weight) ws.weight.push_back(one(f));
  if (size.backward) {
    ws.logits = one(size.logits);
    ws.targets = one(size.targets);
    ws.dlogits = one(size.dlogits);
    ws.dh[0] = one(size.dh);
    ws.dh[1] = one(size.dh);
    ws.dw = one(size.dw);
  }
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

// `times` copies of v, one after another (every trial of a chunk sees the same examples).
std::vector<float> replicated(const std::vector<float>& v, std::size_t times) {
  std::vector<float> out;
  out.reserve(v.size() * times);
  for (std::size_t k = 0; k < times; ++k) out.insert(out.end(), v.begin(), v.end());
  return out;
}

// Issues one op, telling the observer (if any) before and after.
template <class F>
void issue(Backend& b, OpObserver* obs, OpCall&& call, F&& op) {
  if (obs) obs->before(b, call);
  op();
  if (obs) obs->after(b, call);
}

}  // namespace

const char* train_stat_name(int k) {
  static const char* const names[kTrainStats] = {"test_error", "test_nll", "train_error", "train_nll"};
  return k >= 0 && k < kTrainStats ? names[k] : "?";
}

ChunkStats run_chunk_ops(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial, int trials,
                         OpObserver* obs, TrainedParams* trained) {
  if (!ws.size.covers(workspace_size(c, trials, trained != nullptr)))
    throw std::logic_error("run_chunk: workspace too small");
  const Chunk ch = make_chunk(c, stream, first_trial, trials);
  const StatsSpec& spec = ch.stats;
  const auto& n = c.network;
  const int L = static_cast<int>(n.hidden.size()), C = n.output;
  const std::size_t T = static_cast<std::size_t>(trials), B = static_cast<std::size_t>(c.samples);
  auto width = [&](int l) { return l < 0 ? n.input : l < L ? n.hidden[static_cast<std::size_t>(l)] : C; };
  auto acts = [&](int l) { return T * B * static_cast<std::size_t>(width(l)); };  // floats of h_l or s_l
  auto weights = [&](int l) { return T * static_cast<std::size_t>(width(l)) * static_cast<std::size_t>(width(l - 1)); };
  const float bias = static_cast<float>(n.bias);
  const ActivationSpec& act = n.activation;
  if (trained && (int(trained->W.size()) != L + 1 || int(trained->b.size()) != L + 1 || drawn_input(c.data)))
    throw std::logic_error("run_chunk_ops: trained parameters of another network, or no data set");
  // Layer l's weights: drawn into the workspace, or the trained ones.
  auto W = [&](int l) -> Buffer& { return trained ? const_cast<Buffer&>(*trained->W[std::size_t(l)]) : ws.w(l); };
  b.begin_chunk(ch);

  // Forward: h_l = f(h_{l-1} W_l^T + b), statistics of s_l and h_l (and the layer Jacobians).
  std::shared_ptr<const DataBatch> batch;  // a data set's examples, the same for every trial
  if (drawn_input(c.data)) {
    issue(b, obs, {"fill_input", -1, {}, {{&ws.h(-1), acts(-1)}}}, [&] { b.fill_input(ws.h(-1), c.data, n.input); });
  } else {
    batch = data_batch(c);
    issue(b, obs, {"upload_input", -1, {}, {{&ws.h(-1), acts(-1)}}},
          [&] { b.upload(ws.h(-1), replicated(batch->x, T).data(), acts(-1)); });
  }
  for (int l = 0; l < L; ++l) {
    const int n_out = width(l), n_in = width(l - 1);
    if (!trained)
      issue(b, obs, {"init_weights", l, {}, {{&ws.w(l), weights(l)}}},
            [&] { b.init_weights(ws.w(l), resolve_init(n.init, n_in, n_out), l, n_out, n_in); });
    issue(b, obs, {"gemm_forward", l, {{&ws.h(l - 1), acts(l - 1)}, {&W(l), weights(l)}}, {{&ws.s(l), acts(l)}}},
          [&] { b.gemm_forward(ws.h(l - 1), W(l), ws.s(l), n_out, n_in); });
    if (trained)  // the trained per-unit biases, then the activation and statistics as with drawn ones
      b.bias_activate(ws.s(l), *trained->b[std::size_t(l)], nullptr, act, n_out);
    issue(b, obs, {"bias_activation_stats", l, {{&ws.s(l), acts(l)}}, {{&ws.s(l), acts(l)}, {&ws.h(l), acts(l)}}},
          [&] { b.bias_activation_stats(ws.s(l), ws.h(l), act, trained ? 0.0f : bias, n_out, l); });
    if (spec.enabled[int(Quantity::JacobianSingularValue)])
      issue(b, obs, {"jacobian_stats", l, {{&ws.s(l), acts(l)}, {&W(l), weights(l)}}, {}},
            [&] { b.jacobian_stats(ws.s(l), W(l), act, n_out, n_in, l); });
  }
  if (!ws.size.backward) return b.end_chunk();

  // Output layer: logits z = h_L W_out^T + b, softmax, negative log-likelihood of the targets.
  Buffer &z = *ws.logits, &y = *ws.targets, &dz = *ws.dlogits, &dw = *ws.dw;
  const std::size_t zs = T * B * static_cast<std::size_t>(C);
  if (!trained)
    issue(b, obs, {"init_weights", L, {}, {{&ws.w(L), weights(L)}}},
          [&] { b.init_weights(ws.w(L), resolve_init(n.init, width(L - 1), C), L, C, width(L - 1)); });
  issue(b, obs, {"gemm_forward", L, {{&ws.h(L - 1), acts(L - 1)}, {&W(L), weights(L)}}, {{&z, zs}}},
        [&] { b.gemm_forward(ws.h(L - 1), W(L), z, C, width(L - 1)); });
  if (trained)
    b.bias_activate(z, *trained->b[std::size_t(L)], nullptr, act, C);
  else
    issue(b, obs, {"add_bias", L, {{&z, zs}}, {{&z, zs}}}, [&] { b.add_bias(z, bias, C, L); });
  if (batch)
    issue(b, obs, {"upload_targets", L, {}, {{&y, T * B}}},
          [&] { b.upload(y, replicated(batch->labels, T).data(), T * B); });
  else
    issue(b, obs, {"fill_targets", L, {{&ws.h(-1), acts(-1)}}, {{&y, T * B}}},
          [&] { b.fill_targets(y, c.targets, ws.h(-1), n.input, C); });
  if (trained) {
    trained->nll.assign(T, 0.0);
    trained->errors.assign(T, 0);
    b.nll_errors(z, y, C, trained->nll.data(), trained->errors.data());
    if (!needs_backward(c)) return b.end_chunk();
  }
  issue(b, obs, {"softmax_nll_grad", L, {{&z, zs}, {&y, T * B}}, {{&dz, zs}}},
        [&] { b.softmax_nll_grad(z, y, dz, C); });
  // dC/dh_L = dz W_out, then down the layers: dC/ds_l = dC/dh_l * f'(s_l), dC/dW_l = dC/ds_l^T h_{l-1},
  // dC/dh_{l-1} = dC/ds_l W_l.
  Buffer* dh = ws.dh[0].get();
  Buffer* dh_next = ws.dh[1].get();
  issue(b, obs, {"gemm_backward_data", L, {{&dz, zs}, {&W(L), weights(L)}}, {{dh, acts(L - 1)}}},
        [&] { b.gemm_backward_data(dz, W(L), *dh, C, width(L - 1)); });
  for (int l = L - 1; l >= 0; --l) {
    const int n_out = width(l), n_in = width(l - 1);
    issue(b, obs,
          {"activation_grad_stats", l, {{dh, acts(l)}, {&ws.s(l), acts(l)}, {&ws.h(l), acts(l)}}, {{dh, acts(l)}}},
          [&] { b.activation_grad_stats(*dh, ws.s(l), ws.h(l), act, n_out, l); });  // dh becomes dC/ds_l
    if (spec.enabled[int(Quantity::WeightGradient)]) {
      issue(b, obs, {"gemm_weight_grad", l, {{dh, acts(l)}, {&ws.h(l - 1), acts(l - 1)}}, {{&dw, weights(l)}}},
            [&] { b.gemm_weight_grad(*dh, ws.h(l - 1), dw, n_out, n_in); });
      issue(b, obs, {"stats", l, {{&dw, weights(l)}}, {}},
            [&] { b.stats(dw, static_cast<std::size_t>(n_out) * n_in, Quantity::WeightGradient, l); });
    }
    if (l > 0) {
      issue(b, obs, {"gemm_backward_data", l, {{dh, acts(l)}, {&W(l), weights(l)}}, {{dh_next, acts(l - 1)}}},
            [&] { b.gemm_backward_data(*dh, W(l), *dh_next, n_out, n_in); });
      std::swap(dh, dh_next);
    }
  }
  return b.end_chunk();
}

std::vector<TrialStats> run_chunk(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial,
                                  int trials, TrainedParams* trained) {
  return assemble_trial_stats(run_chunk_ops(b, ws, c, stream, first_trial, trials, nullptr, trained), input_var(c));
}

StatisticContext statistic_context(const Config& c, int q) {
  StatisticContext x;
  x.q = Quantity(q);
  x.counted = counted_mask(Quantity(q), c.network.activation);
  x.pairs = c.samples >= 2;
  return x;
}

std::vector<int> aggregated_quantities(const StatsSpec& spec) {
  std::vector<int> qs;
  for (int q = 0; q < kQuantities; ++q)
    if (spec.enabled[q] || q == int(Quantity::Preactivation) || q == int(Quantity::Activation)) qs.push_back(q);
  return qs;
}

ConfigAggregator::ConfigAggregator(const Config& c, const StatsSpec& spec, int layers)
    : layers_(layers), all_(&statistics(spec)) {
  qs_ = aggregated_quantities(spec);
  offset_.assign(std::size_t(layers) * kQuantities, 0);
  count_.assign(std::size_t(layers) * kQuantities, 0);
  for (int q : qs_) ctx_[q] = statistic_context(c, q);
  std::size_t cells = 0;
  for (int l = 0; l < layers; ++l)
    for (int q : qs_) {
      const std::size_t k = std::size_t(l) * kQuantities + std::size_t(q);
      offset_[k] = cells;
      count_[k] = std::size_t(
          std::count_if(all_->begin(), all_->end(), [&](const Statistic& s) { return s.applies(ctx_[q]); }));
      cells += count_[k];
    }
  if (c.train.on()) {
    train_ = cells;
    cells += kTrainStats;
  }
  tree_ = TreeAggregate(cells);
  values_.resize(cells);
  agg_.resize(std::size_t(layers) * kQuantities);
  for (int l = 0; l < layers; ++l)
    for (int q : qs_) agg_[std::size_t(l) * kQuantities + std::size_t(q)].hist.assign(spec.range[q].bins + 2, 0);
}

void ConfigAggregator::add(uint64_t trial, const TrialStats* st, const double* train) {
  if (train_ > 0) {
    if (!train)
      throw std::logic_error("ConfigAggregator: a training configuration's trial without its training statistics");
    std::copy(train, train + kTrainStats, values_.begin() + std::ptrdiff_t(train_));
  }
  for (int l = 0; l < layers_; ++l)
    for (int q : qs_) {
      const std::size_t k = std::size_t(l) * kQuantities + std::size_t(q);
      const TrialStats& ts = st[k];
      double* v = values_.data() + offset_[k];
      for (const Statistic& s : *all_)
        if (s.applies(ctx_[q])) *v++ = s.value(ts);
      Aggregate& a = agg_[k];
      for (std::size_t i = 0; i < ts.hist.size() && i < a.hist.size(); ++i) a.hist[i] += ts.hist[i];
      a.values += ts.count;
      ++a.trials;
    }
  tree_.add(trial, values_.data());
}

void ConfigAggregator::absorb(const ConfigResult& part) {
  tree_.absorb(part.tree);
  if (part.agg.size() != agg_.size()) throw std::logic_error("ConfigAggregator: a result of another shape");
  for (std::size_t k = 0; k < agg_.size(); ++k) {
    Aggregate& a = agg_[k];
    const Aggregate& b = part.agg[k];
    if (b.hist.size() != a.hist.size()) throw std::logic_error("ConfigAggregator: a result of another shape");
    for (std::size_t i = 0; i < a.hist.size(); ++i) a.hist[i] += b.hist[i];
    a.values += b.values;
    a.trials += b.trials;
  }
}

void ConfigAggregator::finish(ConfigResult* r) const& {
  ConfigAggregator copy = *this;
  std::move(copy).finish(r);
}

void ConfigAggregator::finish(ConfigResult* r) && {
  const std::vector<Moments> m = tree_.result();
  r->agg = std::move(agg_);
  for (int l = 0; l < layers_; ++l)
    for (int q : qs_) {
      const std::size_t k = std::size_t(l) * kQuantities + std::size_t(q);
      r->agg[k].per_statistic.assign(m.begin() + std::ptrdiff_t(offset_[k]),
                                     m.begin() + std::ptrdiff_t(offset_[k] + count_[k]));
    }
  r->train.clear();
  if (train_ > 0) r->train.assign(m.begin() + std::ptrdiff_t(train_), m.begin() + std::ptrdiff_t(train_ + kTrainStats));
  r->tree = std::move(tree_);
}

double flops_per_trial(const Config& c) {
  const auto& n = c.network;
  double f = 0;
  int prev = n.input;
  for (int w : n.hidden) {
    f += 2.0 * c.samples * prev * w;
    prev = w;
  }
  bool backward = false;
  for (const auto& q : c.stats.quantities) backward = backward || q == "backprop_gradient" || q == "weight_gradient";
  if (backward) f = 3.0 * (f + 2.0 * c.samples * prev * n.output);
  if (c.train.on() && c.train.update > 0) {
    // The updates since the previous evaluation point (each point carries its share of the
    // training): per update the forward, data-gradient and weight-gradient GEMMs of a minibatch.
    double params = 0;
    prev = n.input;
    for (int w : n.hidden) {
      params += double(prev) * w;
      prev = w;
    }
    params += double(prev) * n.output;
    const int64_t since = c.train.update - ((c.train.update - 1) / c.train.eval_every) * c.train.eval_every;
    f += double(since) * 3.0 * 2.0 * params * c.train.minibatch;
  }
  return f;
}

std::vector<WorkUnit> all_units(const Experiment& ex) {
  std::vector<WorkUnit> u;
  for (std::size_t i = 0; i < ex.points.size(); ++i) u.push_back({i, 0, uint64_t(ex.points[i].config.trials)});
  return u;
}

std::vector<WorkUnit> shard_units(const Experiment& ex, int index, int count) {
  if (count < 1 || index < 0 || index >= count)
    throw std::invalid_argument("--shard " + std::to_string(index) + "/" + std::to_string(count) +
                                ": needs 0 <= I < N (I counts from 0, as SLURM_ARRAY_TASK_ID)");
  // What is dealt: a configuration, or a training group whole (its evaluation points are one
  // training run, measured as it goes: dealt apart, each shard would train the networks again up to
  // its points).
  std::vector<std::vector<std::size_t>> items;  // points, in sweep order
  std::map<std::string, std::size_t> group_item;
  for (std::size_t i = 0; i < ex.points.size(); ++i) {
    const std::string& g = ex.points[i].train_group;
    if (g.empty()) {
      items.push_back({i});
      continue;
    }
    const auto it = group_item.find(g);
    if (it == group_item.end()) {
      group_item.emplace(g, items.size());
      items.push_back({i});
    } else {
      items[it->second].push_back(i);
    }
  }
  const std::size_t P = items.size();
  const uint64_t pieces = P >= std::size_t(count) ? 1 : (uint64_t(count) + P - 1) / P;
  // Each item cut into `pieces` trial ranges (a group's points share their trial count).
  struct Deal {
    std::vector<WorkUnit> units;
    double cost = 0;
  };
  std::vector<Deal> deals;
  for (const auto& item : items) {
    const uint64_t T = uint64_t(ex.points[item.front()].config.trials);
    for (uint64_t j = 0; j < pieces; ++j) {
      const uint64_t a = T * j / pieces, b = T * (j + 1) / pieces;
      if (b <= a) continue;
      Deal d;
      for (std::size_t i : item) {
        d.units.push_back({i, a, b});
        d.cost += flops_per_trial(ex.points[i].config) * double(b - a);
      }
      deals.push_back(std::move(d));
    }
  }
  std::vector<std::size_t> order(deals.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return deals[a].cost > deals[b].cost; });
  std::vector<double> load(std::size_t(count), 0.0);
  std::vector<std::size_t> mine_idx;
  for (std::size_t k : order) {
    const std::size_t s = std::size_t(std::min_element(load.begin(), load.end()) - load.begin());
    load[s] += deals[k].cost;
    if (int(s) == index) mine_idx.push_back(k);
  }
  std::sort(mine_idx.begin(), mine_idx.end());  // this shard's deals in sweep order
  std::vector<WorkUnit> mine;
  for (std::size_t k : mine_idx) mine.insert(mine.end(), deals[k].units.begin(), deals[k].units.end());
  return mine;
}

Committed committed_of(const RunOptions& opt, const SweepPoint& p, uint64_t first, uint64_t end,
                       const std::function<void(const ConfigResult&)>& absorb) {
  Committed c;
  uint64_t at = first;
  if (opt.resume)
    for (const ConfigResult& d : opt.resume(p, first, end)) {
      if (d.first < at || d.end > end) throw std::logic_error("committed_of: resumed ranges overlap");
      if (d.first > at) c.missing.push_back({at, d.first});
      at = d.end;
      absorb(d);
      c.seconds += d.seconds;
      c.trials += int64_t(d.end - d.first);
    }
  if (at < end) c.missing.push_back({at, end});
  return c;
}

std::vector<ConfigResult> run_experiment(const Experiment& ex, Backend& backend, const RunOptions& opt) {
  // Refuse impossible sizes for every configuration before any work starts.
  std::vector<MemoryPlan> plans = opt.plans;
  if (plans.size() != ex.points.size()) {
    plans.clear();
    const std::size_t held = held_bytes(ex);
    for (const auto& p : ex.points) plans.push_back(plan_memory(p.config, backend, held));
  }
  // Worker backends and their workspaces live for the whole experiment (buffers are reused by the
  // next configuration when large enough).
  std::vector<std::unique_ptr<Backend>> owned;
  std::vector<Backend*> workers{&backend};
  int most = 1;
  for (const auto& p : plans) most = std::max(most, p.workers);
  if (most > 1) {
    workers.clear();
    for (int w = 0; w < most; ++w) {
      owned.push_back(backend.make_worker(w));
      if (!owned.back()) throw std::logic_error("backend reports workers but makes none");
      workers.push_back(owned.back().get());
    }
  }
  std::vector<Workspace> ws(workers.size());
  std::vector<ConfigResult> results;
  const std::vector<WorkUnit> units = opt.units.empty() ? all_units(ex) : opt.units;
  for (const WorkUnit& w : units)
    if (w.point >= ex.points.size() || w.end <= w.first || w.end > uint64_t(ex.points[w.point].config.trials))
      throw std::logic_error("run_experiment: a work unit outside its configuration");
  // At initialization: a pool of worker threads, pipelined (init_pipeline.h). Training (every
  // configuration of the sweep, or none) trains each group's chunks below.
  if (!ex.points.empty() && !ex.points.front().config.train.on()) {
    run_init_units(ex, units, plans, workers, ws, opt, &results);
    return results;
  }
  const int total = static_cast<int>(units.size());
  auto stopping = [&] { return opt.stop && opt.stop->load(); };
  for (std::size_t u = 0; u < units.size(); ++u) {
    const std::size_t i = units[u].point;
    const SweepPoint& p = ex.points[i];
    if (!p.config.train.on())
      throw std::logic_error("run_experiment: a configuration that does not train in a training sweep");
    // A training group: the consecutive units of its evaluation points over the same trials are
    // trained together (each chunk once) and handed on in order.
    TrainRun tr;
    tr.ex = &ex;
    tr.first = units[u].first;
    tr.end = units[u].end;
    std::size_t v = u;
    while (v < units.size() && ex.points[units[v].point].train_group == p.train_group && units[v].first == tr.first &&
           units[v].end == tr.end && (v == u || units[v].point > units[v - 1].point))
      tr.points.push_back(units[v++].point);
    tr.workers = workers;
    tr.spaces = &ws;
    tr.plan = plans[i];
    tr.done_units = static_cast<int>(u);
    tr.total_units = total;
    if (stopping()) throw Interrupted(static_cast<int>(u), total);
    for (ConfigResult& whole : run_training(tr, opt)) {
      if (opt.unit_done)
        opt.unit_done(std::move(whole));
      else
        results.push_back(std::move(whole));
    }
    u = v - 1;
  }
  return results;
}

}  // namespace isc
