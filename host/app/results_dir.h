// results_dir.h — a results folder that keeps every finished configuration: a lock against a second
// run, the experiment's identity, one committed part per configuration (its aggregate and, with
// per-trial output, its rows) in a log that is also the run's journal, and what a resumed run needs.
#pragma once
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "host/app/runner.h"
#include "host/app/trials_writer.h"

namespace isc {

// The experiment's identity: a hash of its configurations' ids in order (16 hex digits).
std::string experiment_id(const Experiment& ex);

// A folder that cannot be used for this run (held by another run, or results of another
// experiment without --force); the message says which and what to do.
class ResultsDirError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What re-creates the experiment (for `initscope merge`): the config file's text and name, and the
// command line's overrides.
struct ExperimentRecipe {
  std::string text, source;
  Overrides overrides;
};

// An exclusive lock on DIR/.initscope.lock (flock, released when the process ends however it
// ends): one initscope run or merge writes a folder at a time. Creates DIR.
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// Before a run or a merge writes the results of `experiment` (its experiment_id) into DIR, which it
// holds the lock of: refuses (ResultsDirError) a folder that holds the results of another
// experiment, or files that a run replaces (figures/, report.html, the CSVs, manifest.json,
// examples.json) without being an initscope results folder (no parts/experiment.json, no manifest of
// a run): a user's own figures/ in the folder given as --out would be lost. With `force`, those are
// removed instead. Temporary files a killed run left are removed.
void prepare_results_folder(const std::string& dir, const std::string& experiment, bool force);

// Layout: DIR/.initscope.lock; DIR/parts/experiment.json (the experiment id and recipe);
// DIR/parts/parts.log (parts_log.h: one record per committed range of trials of a configuration, the
// journal of the run); DIR/parts/<config_id>.<first>-<end>.trials.csv.gz (a range's per-trial rows).
// A range committed again (to keep its per-trial rows, or after a stop) replaces the earlier ranges of
// its configuration that it overlaps.
class ResultsDir {
 public:
  // Opens (creates) DIR for `ex`: takes the lock, removes temporary files a killed run left, cuts a
  // damaged end off the log, and checks that results already there are this experiment's; with
  // `force`, results of another experiment (parts, outputs, figures) are removed instead of refused.
  ResultsDir(const std::string& dir, const Experiment& ex, const ExperimentRecipe& recipe, bool force);
  ~ResultsDir();
  ResultsDir(const ResultsDir&) = delete;
  ResultsDir& operator=(const ResultsDir&) = delete;

  // The committed ranges of p's trials within [first, end), in trial order (RunOptions::resume).
  // With `need_trials`, a range whose per-trial rows were not kept is left out (to be recomputed;
  // its new record replaces it). Throws for ranges that reach outside [first, end) (another trial
  // count or sharding).
  std::vector<ConfigResult> committed(const SweepPoint& p, uint64_t first, uint64_t end, bool need_trials);
  // The per-trial rows of p's running range, until commit() names them by the range.
  std::unique_ptr<TrialsCsvGz> trials_part(const SweepPoint& p) const;
  // Commits a finished range of trials: its rows (if given: written to a temporary name, synced and
  // renamed), then its record in the log (one append; synced about once a second and by sync()).
  void commit(const ConfigResult& r, TrialsCsvGz* trials);
  // Flushes the log to disk (at the end of a run, and when it stops).
  void sync();
  // DIR/trials.csv.gz: the header and every configuration's rows, in configuration and trial
  // order (gzip members one after another: a valid gzip file).
  void assemble_trials(const Experiment& ex) const;
  int resumed() const { return resumed_; }
  // Bytes cut off the end of the log when it was opened (a run killed while appending).
  uint64_t damaged_bytes() const;

  // A committed range: a record of the log.
  struct PartRef {
    uint64_t first = 0, end = 0;
    int record = -1;   // index into the log's records
    std::string rows;  // its per-trial rows' file, "" if not kept
  };

 private:
  std::string rows_path(const std::string& config_id, uint64_t first, uint64_t end) const;
  std::string dir_, parts_, experiment_;
  FolderLock lock_;
  std::unique_ptr<class PartsLog> log_;
  std::map<std::string, std::vector<PartRef>> index_;  // by config id, in trial order
  int resumed_ = 0;
};

// A folder's parts read back: the experiment (re-created from its recipe) and its committed results.
struct FolderParts {
  std::unique_ptr<Experiment> ex;
  std::string id;
  std::vector<ConfigResult> parts;  // point pointers into *ex
  std::vector<std::string> trials;  // per part: its rows' file, "" if not kept
};
FolderParts read_parts(const std::string& dir);

// `initscope merge OUT DIR...`: the parts of several folders (shards) of one experiment combined into
// per-configuration results, byte-identical to the unsharded run's. Refuses folders of different
// experiments and missing or overlapping trial ranges, naming them. Returns the experiment, one
// result per configuration, and whether every part kept its per-trial rows (then, in order, their files).
struct Merged {
  std::unique_ptr<Experiment> ex;
  std::vector<ConfigResult> results;
  std::vector<std::string> trials;  // every rows file in configuration and trial order, or empty
};
Merged merge_folders(const std::vector<std::string>& dirs);
// OUT/trials.csv.gz from the header and the given row files (gzip members), atomically.
void concatenate_trials(const std::string& out_dir, const Experiment& ex, const std::vector<std::string>& files);

}  // namespace isc
