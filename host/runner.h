// runner.h — runs every configuration of an experiment in memory-sized chunks of trials.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "backend.h"
#include "config.h"
#include "stats.h"

namespace isc {

struct ConfigResult {
  const SweepPoint* point = nullptr;
  StatsSpec spec;
  int layers = 0;
  int chunk_trials = 0;
  std::vector<TrialStats> trials;  // [(trial * layers + layer) * kForwardQuantities + q]
  double seconds = 0.0;
  const TrialStats& at(int64_t trial, int layer, int q) const {
    return trials[(static_cast<std::size_t>(trial) * layers + layer) * kForwardQuantities + q];
  }
};

struct MemoryPlan {
  std::size_t per_trial_bytes = 0;
  std::size_t budget_bytes = 0;
  int chunk_trials = 0;
};

// Plans chunks for one configuration; throws a clear error if one trial cannot fit.
MemoryPlan plan_memory(const Config& c, const Backend& b);
StatsSpec stats_spec(const Config& c);

using Progress = std::function<void(const SweepPoint&, int64_t done, int64_t total)>;
std::vector<ConfigResult> run_experiment(const Experiment& ex, Backend& backend, const Progress& progress = {});

// Backend buffers for chunks of up to `trials` trials of one configuration, reused by every chunk.
struct WorkspaceSize {
  std::size_t input = 0, hidden = 0, weights = 0;  // floats per buffer
  bool covers(const WorkspaceSize& o) const { return input >= o.input && hidden >= o.hidden && weights >= o.weights; }
};
WorkspaceSize workspace_size(const Config& c, int trials);
struct Workspace {
  std::unique_ptr<Buffer> h0, h1, s, w;
  WorkspaceSize size;
};
Workspace make_workspace(Backend& b, const WorkspaceSize& size);

// The forward pass of one chunk through the backend ops (exposed for tests).
std::vector<TrialStats> run_chunk(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial,
                                  int trials);

}  // namespace isc
