// runner.h — runs every configuration of an experiment in memory-sized chunks of trials.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "host/backend/backend.h"
#include "host/app/config.h"
#include "host/backend/stats.h"

namespace isc {

struct ConfigResult {
  const SweepPoint* point = nullptr;
  StatsSpec spec;
  int layers = 0;
  int chunk_trials = 0;
  int workers = 1;
  std::vector<TrialStats> trials;  // [(trial * layers + layer) * kQuantities + q]
  double seconds = 0.0;
  const TrialStats& at(int64_t trial, int layer, int q) const {
    return trials[(static_cast<std::size_t>(trial) * layers + layer) * kQuantities + q];
  }
};

struct MemoryPlan {
  std::size_t per_trial_bytes = 0;
  std::size_t budget_bytes = 0;
  int chunk_trials = 0;  // per chunk, each worker running one chunk at a time
  int workers = 1;       // the backend's workers, fewer if memory or the trial count is short
};

// Plans chunks and workers for one configuration; throws a clear error if one trial cannot fit.
MemoryPlan plan_memory(const Config& c, const Backend& b);
StatsSpec stats_spec(const Config& c);

using Progress = std::function<void(const SweepPoint&, int64_t done, int64_t total)>;
std::vector<ConfigResult> run_experiment(const Experiment& ex, Backend& backend, const Progress& progress = {});

// Backend buffers for chunks of up to `trials` trials of one configuration, reused by every
// chunk. Forward only: input, two activations (ping-pong), pre-activation, one weight matrix.
// With backward quantities every layer's s, h and W are kept, plus logits, targets and gradients.
struct WorkspaceSize {
  bool backward = false;
  std::vector<std::size_t> floats;  // per buffer, in allocation order
  bool covers(const WorkspaceSize& o) const {
    if (backward != o.backward || floats.size() != o.floats.size()) return false;
    for (std::size_t i = 0; i < floats.size(); ++i)
      if (floats[i] < o.floats[i]) return false;
    return true;
  }
  std::size_t total() const {
    std::size_t t = 0;
    for (auto f : floats) t += f;
    return t;
  }
};
WorkspaceSize workspace_size(const Config& c, int trials);
struct Workspace {
  std::vector<std::unique_ptr<Buffer>> buf;
  WorkspaceSize size;
};
Workspace make_workspace(Backend& b, const WorkspaceSize& size);
bool needs_backward(const Config& c);

// The forward (and, if asked, backward) pass of one chunk through the backend ops (exposed for
// tests).
std::vector<TrialStats> run_chunk(Backend& b, Workspace& ws, const Config& c, uint64_t stream, uint64_t first_trial,
                                  int trials);

}  // namespace isc
