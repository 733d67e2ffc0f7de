// train_runner.h — `initscope run` with [train]: trains each chunk of a configuration's trials once
// and measures it at every evaluation point (each a point of the sweep), with checkpoints.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/app/runner.h"
#include "host/app/train/mlp_reference.h"

namespace isc {

// One training group's share of a run: the evaluation points `points` (consecutive indices into
// ex->points, one train_group, in update order), each over trials [first, end).
struct TrainRun {
  const Experiment* ex = nullptr;
  std::vector<std::size_t> points;
  uint64_t first = 0, end = 0;
  std::vector<Backend*> workers;             // each trains one chunk at a time
  std::vector<Workspace>* spaces = nullptr;  // one per worker (the evaluation pass's buffers)
  MemoryPlan plan;
  int done_units = 0, total_units = 0;  // for Interrupted
};

// Each point's whole result over [first, end), in `points` order. Committed ranges (opt.resume)
// are absorbed; each chunk of trials that some point still misses is trained once, from update 0 or
// from its checkpoint, and measured at the points that miss it (committed through opt.finished as
// each evaluation point is reached). With opt.checkpoints set, a chunk's parameters are saved there
// at evaluation points (at most every train.checkpoint_seconds) and when a stop interrupts it, so a
// resumed run continues from them to the same results; the file goes when the chunk is done.
std::vector<ConfigResult> run_training(const TrainRun& run, const RunOptions& opt);

// The data set index of trial `trial`'s example j of update `step` (0-based): drawn with
// replacement from the examples after the `samples` evaluation examples (a stream's: any index
// after them), by Philox keyed by the experiment seed and data set alone. Trial t of every
// configuration of a seed sees the same examples in the same order (common random numbers: inits
// and activations are compared on the same data), whatever the chunking.
uint64_t train_example_index(const Config& c, uint64_t dataset_size, uint64_t trial, int64_t step, int j);

// The minibatch of update `step` for trials [first, first + trials), as MlpBatch (x, labels),
// rendered or copied on `threads` threads (the same bits for any count).
MlpBatch train_minibatch(const Config& c, uint64_t first, int trials, int64_t step, int threads = 1);

// A chunk's training state on disk: the parameters after `update` updates and the sums of the
// training statistics since the last evaluation point. Written atomically; read back only when every
// field matches (group, trials, shape) and its CRC-32 holds.
struct TrainCheckpoint {
  std::string group;
  uint64_t first = 0, end = 0;
  int64_t update = 0, steps = 0;  // steps: updates since the last evaluation point
  MlpParams params;
  std::vector<double> nll, errors;  // per trial, summed over those steps' minibatches
};
std::string checkpoint_path(const std::string& dir, const std::string& group, uint64_t first, uint64_t end);
void write_checkpoint(const std::string& path, const TrainCheckpoint& ck);
// false when there is no such file or it does not match (`why` says what, when it exists).
bool read_checkpoint(const std::string& path, const MlpShape& shape, TrainCheckpoint* ck, std::string* why);

}  // namespace isc
