// runner.h — runs every configuration of an experiment in memory-sized chunks of trials.
#pragma once
#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/app/aggregate.h"
#include "host/app/config.h"
#include "host/backend/backend.h"
#include "host/backend/stats.h"

namespace isc {

// The across-trial aggregate of one (layer, quantity): each applicable statistic's moments over the
// trials (statistic_names order; TreeAggregate's tree, so independent of chunking and workers), the
// pooled histogram, and how many trials and values went in.
struct Aggregate {
  std::vector<Moments> per_statistic;
  std::vector<uint64_t> hist;
  uint64_t trials = 0;
  uint64_t values = 0;
};

struct ConfigResult {
  const SweepPoint* point = nullptr;
  uint64_t first = 0, end = 0;  // the trials [first, end) this result covers (a shard may hold part)
  StatsSpec spec;
  int layers = 0;
  int chunk_trials = 0;
  int workers = 1;
  double seconds = 0.0;
  // [layer * kQuantities + q]: filled for the written quantities and the forward ones.
  std::vector<Aggregate> agg;
  // Training: the across-trial moments of each train_stat_name(k) (empty without training).
  std::vector<Moments> train;
  // The across-trial moments' partial results (what merges with other ranges of the same
  // configuration, bit for bit); agg's per_statistic is its result.
  TreeAggregate tree;
  // Every trial's statistics, [(trial * layers + layer) * kQuantities + q]: only with
  // RunOptions::keep_trials (memory grows with the trial count).
  std::vector<TrialStats> trials;
  const Aggregate& aggregate(int layer, int q) const {
    return agg[static_cast<std::size_t>(layer) * kQuantities + static_cast<std::size_t>(q)];
  }
  const TrialStats& at(int64_t trial, int layer, int q) const {
    return trials[(static_cast<std::size_t>(trial) * layers + layer) * kQuantities + q];
  }
};

// Which statistics apply to quantity q of configuration c (saturation, input pairs).
StatisticContext statistic_context(const Config& c, int q);
// The quantities aggregated for a configuration: the written ones, and the forward ones always
// (the summary table uses them), in quantity order.
std::vector<int> aggregated_quantities(const StatsSpec& spec);

// Folds per-trial statistics (or other results of the same configuration) into one configuration's
// across-trial aggregate: every statistic into a TreeAggregate cell, histograms and counts as integers.
class ConfigAggregator {
 public:
  ConfigAggregator(const Config& c, const StatsSpec& spec, int layers);
  // Trial `trial`'s statistics, [layer * kQuantities + q], and with training its kTrainStats
  // values (`train`, required then).
  void add(uint64_t trial, const TrialStats* st, const double* train = nullptr);
  // Another result of this configuration, for a disjoint range of trials.
  void absorb(const ConfigResult& part);
  // Sets r->agg and r->tree; the rvalue form hands over this aggregate's own (it is done).
  void finish(ConfigResult* r) const&;
  void finish(ConfigResult* r) &&;

 private:
  int layers_;
  const std::vector<Statistic>* all_;  // statistics(spec), kept for the process
  std::vector<int> qs_;
  StatisticContext ctx_[kQuantities];
  std::vector<std::size_t> offset_, count_;
  TreeAggregate tree_;
  std::vector<double> values_;
  std::vector<Aggregate> agg_;
  std::size_t train_ = 0;  // offset of the training statistics' cells (kTrainStats of them), 0: none
};

// GEMM FLOPs of one trial: forward 2 B n_in n_out per layer; with backward quantities the output
// layer and about twice the forward again (data and weight gradients). The cost model of shards,
// the progress ETA and the plan.
double flops_per_trial(const Config& c);

// One piece of work: trials [first, end) of configuration `point` (index into Experiment::points).
struct WorkUnit {
  std::size_t point = 0;
  uint64_t first = 0, end = 0;
};
// Every configuration whole, in order.
std::vector<WorkUnit> all_units(const Experiment& ex);
// Shard `index` of `count` (0-based): what is dealt is each configuration, a training group whole
// (its evaluation points, trained together), or, with fewer of these than shards, each cut into
// ceil(count / their number) equal trial ranges; they are dealt to the shards by estimated cost
// (GEMM FLOPs), largest first, each to the least loaded shard (ties: the lower index), and a shard's
// units come in sweep order of what was dealt. Deterministic: every shard computes the same deal.
std::vector<WorkUnit> shard_units(const Experiment& ex, int index, int count);

// How many finished configurations may wait for the results writer (ResultsWriter's queue).
constexpr std::size_t kResultsQueue = 32;

// The init pipeline keeps at most this many chunks per worker taken and not yet folded in trial
// order, or more while their per-trial statistics stay within kUnfoldedBytes.
constexpr int64_t kUnfoldedPerWorker = 2;
constexpr std::size_t kUnfoldedBytes = std::size_t(4) << 20;

struct MemoryPlan {
  std::size_t per_trial_bytes = 0;
  std::size_t fixed_bytes = 0;   // the across-trial aggregates of the ranges queued, finished
                                 // ones waiting to be written, and held_bytes
  std::size_t held_bytes = 0;    // of those, the expanded experiment (plan_memory's `held`)
  std::size_t worker_bytes = 0;  // per worker beside its workspace (Backend::worker_overhead_bytes)
  std::size_t budget_bytes = 0;
  int chunk_trials = 0;               // per chunk, each worker running one chunk at a time
  std::size_t chunk_stats_bytes = 0;  // one chunk's per-trial statistics
  int workers = 1;                    // the backend's workers, fewer if memory or the trial count is short
  int ranges_ahead = 4;               // ranges of trials queued at once, each with its aggregate (init pipeline)
  // What one worker holds: its overhead and a chunk's workspace and per-trial statistics.
  std::size_t worker_total() const { return worker_bytes + per_trial_bytes * std::size_t(chunk_trials); }
};

// Plans chunks and workers for one configuration; throws a clear error if one trial cannot fit.
// `held`: bytes the run holds beside the configuration's own for its whole length, the expanded
// experiment (held_bytes(ex)); counted in fixed_bytes, like the aggregates (host memory, in the
// one budget the plan has, as they are).
MemoryPlan plan_memory(const Config& c, const Backend& b, std::size_t held = 0);
// What a worker's memory beside its workspace depends on, for c.
WorkerShape worker_shape(const Config& c);
StatsSpec stats_spec(const Config& c);

// Progress of a unit of work: `done` of its `total` trials; `resumed` when those trials were
// committed before this run (not computed now).
using Progress = std::function<void(const SweepPoint&, int64_t done, int64_t total, bool resumed)>;
// Sees the per-trial statistics of consecutive trials [first, first + n) of a configuration, in
// trial order, as they are aggregated (trials.csv is written from it).
using TrialsSink = std::function<void(const ConfigResult&, uint64_t first, const std::vector<TrialStats>&)>;
struct RunOptions {
  Progress progress;
  TrialsSink per_trial;
  bool keep_trials = false;  // keep every per-trial result in ConfigResult::trials (tests)
  // The work (default: every configuration whole); one result per unit, in this order.
  std::vector<WorkUnit> units;
  // The committed results of trials within [first, end) of a configuration (a resumed or extended
  // run): disjoint, in trial order. Only the trials none of them covers are computed.
  std::function<std::vector<ConfigResult>(const SweepPoint&, uint64_t first, uint64_t end)> resume;
  // Called with every newly computed range of trials, as it finishes (a results folder commits
  // it); on a stop, with the finished beginning of the range that was running.
  std::function<void(const ConfigResult&)> finished;
  // When set, each unit's whole result is handed here as it is done (in unit order, resumed units
  // too) instead of being returned: memory then holds one unit's aggregate at a time.
  std::function<void(ConfigResult&&)> unit_done;
  // Checked between chunks (and between training updates): when set, the run stops at the next
  // chunk boundary (training: the next update, after saving a checkpoint) and throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
  // Training: the folder of chunk checkpoints ("": none are written or read).
  std::string checkpoints;
  // The memory plans of ex.points, when the caller made them already (plan_memory on the same
  // backend); empty: run_experiment makes them.
  std::vector<MemoryPlan> plans;
  // Training: render each minibatch on the host's other cores while the previous update runs
  // (-1: on for a GPU backend, off on the CPU, whose cores run the updates; 0 off, 1 on).
  int prefetch_minibatches = -1;
  // A line for the user (a chunk resumed from its checkpoint, a checkpoint not used and why).
  std::function<void(const std::string&)> note;
};
// Thrown by run_experiment when RunOptions::stop was set; what finished was reported to `finished`.
struct Interrupted : std::runtime_error {
  int done = 0, total = 0;   // units finished (or resumed) and in all
  uint64_t kept_trials = 0;  // trials of the next unit that were kept (its finished beginning)
  Interrupted(int d, int t, uint64_t k = 0) : std::runtime_error("interrupted"), done(d), total(t), kept_trials(k) {}
};
inline RunOptions keep_all_trials() {
  RunOptions o;
  o.keep_trials = true;
  return o;
}
// What is committed of trials [first, end) of p (RunOptions::resume, in trial order), and the
// ranges of them still to compute, in order; the committed results are handed to `absorb`.
struct Committed {
  std::vector<std::pair<uint64_t, uint64_t>> missing;
  int64_t trials = 0;    // committed
  double seconds = 0.0;  // what computing them took
};
Committed committed_of(const RunOptions& opt, const SweepPoint& p, uint64_t first, uint64_t end,
                       const std::function<void(const ConfigResult&)>& absorb);

// Runs every configuration; memory does not grow with the trial count (unless keep_trials). Returns
// one result per unit, or none when RunOptions::unit_done takes them.
std::vector<ConfigResult> run_experiment(const Experiment& ex, Backend& backend, const RunOptions& opt = {});

// The sizes (in floats) of the backend buffers of chunks of up to `trials` trials of one
// configuration. Forward only: two activation buffers used alternately (the input is the first),
// one pre-activation and one weight buffer, reused by every layer. With backward quantities every
// layer's s, h and W are kept, with the output layer's logits, targets and gradients.
struct WorkspaceSize {
  bool backward = false;
  std::vector<std::size_t> act;     // forward only: 2; backward: the input, then h_1 .. h_L
  std::vector<std::size_t> pre;     // forward only: 1; backward: s_1 .. s_L
  std::vector<std::size_t> weight;  // forward only: 1; backward: W_1 .. W_L, then W_out
  std::size_t logits = 0, targets = 0, dlogits = 0, dh = 0, dw = 0;  // backward only (dh: two of them)
  bool covers(const WorkspaceSize& o) const;
  std::size_t total() const;
};
// `trained`: for training's evaluation pass, which reads the trained weights in place (the weight
// buffers are then a float each, unused).
WorkspaceSize workspace_size(const Config& c, int trials, bool trained = false);

// The buffers themselves, named. Layers are 0-based; h(-1) is the input batch.
struct Workspace {
  WorkspaceSize size;
  std::vector<std::unique_ptr<Buffer>> act, pre, weight;
  std::unique_ptr<Buffer> logits, targets, dlogits, dh[2], dw;
  Buffer& h(int l) { return *act[static_cast<std::size_t>(l + 1) % act.size()]; }
  Buffer& s(int l) { return *pre[static_cast<std::size_t>(l) % pre.size()]; }
  Buffer& w(int l) { return *weight[static_cast<std::size_t>(l) % weight.size()]; }  // l = L: the output layer
};
Workspace make_workspace(Backend& b, const WorkspaceSize& size);
bool needs_backward(const Config& c);

// One backend op as run_chunk issues it, for observers (the cross-backend tests): its name, layer
// (-1 for none), the operands it reads and the ones it writes (a buffer and the floats that count).
struct Operand {
  Buffer* buf;
  std::size_t floats;
};
struct OpCall {
  const char* op;
  int layer;
  std::vector<Operand> in, out;
};
class OpObserver {
 public:
  virtual ~OpObserver() = default;
  virtual void before(Backend&, const OpCall&) {}
  virtual void after(Backend&, const OpCall&) {}
};

// Trained parameters to measure instead of drawn ones (training's evaluation points): every weight
// layer's W and per-unit biases b (the output layer last, TrainState's layouts). The pass then also
// gives each trial's summed negative log-likelihood and misclassified count on the samples.
struct TrainedParams {
  std::vector<const Buffer*> W, b;
  std::vector<double> nll;      // filled: per trial
  std::vector<int64_t> errors;  // filled: per trial
};

// The forward (and, if asked, backward) pass of one chunk through the backend ops: the backend's
// chunk statistics. `observer`, if given, sees every op before and after it runs. With `trained`,
// the chunk's networks are those parameters (c must train; its data set's examples are the input).
ChunkStats run_chunk_ops(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial, int trials,
                         OpObserver* observer = nullptr, TrainedParams* trained = nullptr);
// run_chunk_ops, assembled into per-trial statistics (trial-major, see assemble_trial_stats).
std::vector<TrialStats> run_chunk(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial,
                                  int trials, TrainedParams* trained = nullptr);

// The per-trial statistics of a training evaluation point beyond the layers' (stats.csv's layer
// L+1, quantity "output"): error rate and mean NLL on the `samples` evaluation examples, and on the
// minibatches of the updates since the previous evaluation point (NaN at update 0: none yet).
constexpr int kTrainStats = 4;
const char* train_stat_name(int k);  // test_error, test_nll, train_error, train_nll

}  // namespace isc
