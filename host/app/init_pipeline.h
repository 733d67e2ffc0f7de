// init_pipeline.h — the at-initialization work units of a run on a pool of worker threads, with the
// next configuration's chunks computed while the previous one is committed.
#pragma once
#include <vector>

#include "host/app/runner.h"

namespace isc {

// Runs `units` (none of them training) in order. Each worker w drives workers[w] with workspace
// spaces[w] from a thread of its own, kept for the whole run; the calling thread deals the chunks,
// folds each range into its aggregate in trial order, and commits (RunOptions::finished) and hands
// on (unit_done, else `results`) in unit order. A range's chunks are dealt as soon as the chunks
// before them are dealt, so the workers go on with the next configuration while the calling thread
// commits the one before: a sweep of small configurations waits for the driver no more than one
// configuration does. Results are those of one range at a time, bit for bit (the across-trial tree
// depends on trial indices only). Ranges run side by side only when every worker may run them
// (plans of all the backend's workers: memory is planned per worker) and no per-trial sink is set
// (trials.csv is written one range at a time).
void run_init_units(const Experiment& ex, const std::vector<WorkUnit>& units, const std::vector<MemoryPlan>& plans,
                    const std::vector<Backend*>& workers, std::vector<Workspace>& spaces, const RunOptions& opt,
                    std::vector<ConfigResult>* results);

}  // namespace isc
