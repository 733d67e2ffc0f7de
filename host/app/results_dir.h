// results_dir.h — a results folder that keeps every finished configuration: a lock against a second
// run, the experiment's identity, one committed part per configuration (its aggregate and, with
// per-trial output, its rows), a journal, and what a resumed run needs.
#pragma once
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

// Layout: DIR/.initscope.lock, DIR/parts/EXPERIMENT (the experiment id), DIR/parts/<config_id>.part
// (CBOR: the configuration's aggregate, bit for bit), DIR/parts/<config_id>.trials.csv.gz (its
// per-trial rows), DIR/parts/journal.jsonl (one line per committed configuration).
class ResultsDir {
 public:
  // Opens (creates) DIR for `ex`: takes the lock, removes temporary files a killed run left, and
  // checks that results already there are this experiment's; with `force`, results of another
  // experiment (parts, outputs, figures) are removed instead of refused.
  ResultsDir(const std::string& dir, const Experiment& ex, bool force);
  ~ResultsDir();
  ResultsDir(const ResultsDir&) = delete;
  ResultsDir& operator=(const ResultsDir&) = delete;

  // Loads a committed configuration into *r (false if there is none; with `need_trials`, also false
  // when its per-trial rows were not kept).
  bool load(const SweepPoint& p, bool need_trials, ConfigResult* r) const;
  // The per-trial rows of configuration p, until commit().
  std::unique_ptr<TrialsCsvGz> trials_part(const SweepPoint& p) const;
  // Commits a finished configuration: its rows (if given), then its part, each written to a
  // temporary name, synced and renamed; then a journal line.
  void commit(const ConfigResult& r, TrialsCsvGz* trials);
  // DIR/trials.csv.gz: the header and every configuration's rows, in configuration order (gzip
  // members, one after another: a valid gzip file).
  void assemble_trials(const Experiment& ex) const;
  int resumed() const { return resumed_; }

 private:
  std::string part_path(const std::string& config_id, const char* ext) const;
  std::string dir_, parts_, experiment_;
  int lock_fd_ = -1;
  mutable int resumed_ = 0;
};

}  // namespace isc
