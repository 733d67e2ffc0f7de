// results_writer.h — the final outputs (stats.csv, histograms.csv, theory.csv, manifest.json) written
// as the configurations come, in configuration order, each under a temporary name until finish().
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/app/background_sync.h"
#include "host/app/output.h"

namespace isc {

class ResultsWriter {
 public:
  // Opens DIR/<file>.tmp.PID for each CSV and the manifest (DIR must exist) and writes their
  // headers; the manifest's begins with `command_line` (RunInfo::command_line, given again to finish()).
  ResultsWriter(const std::string& dir, const Experiment& ex, const std::string& command_line);
  // Without finish() (an error, a stop): the temporary files are removed; the folder keeps what it had.
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  // One configuration's result, in configuration order. Its rows are rendered and written by the
  // writer's own thread, which, while it has no rows to write, computes the mean-field theory of the
  // configurations ahead (it needs the configurations only): on a GPU run, and between chunks on
  // the CPU, that work runs on cores that would otherwise wait. add() waits only when kQueue results
  // are waiting already, so memory holds a bounded number of aggregates. Text goes to the files
  // every megabyte or so, is handed to the disk (sync_file_range) and made durable by a thread of
  // its own as it is written (background_sync.h), so that finish() waits for the last bytes only. The manifest's
  // entries go the same way: memory does not grow with the number of configurations. Throws an error of the writer
  // thread (a full disk). (Not at idle priority: SCHED_IDLE starves it whenever other processes keep every core busy,
  // measured here as a 1.4 s run taking 37 s beside a compiler.)
  void add(ConfigResult&& r);
  // Waits for the rows, flushes and syncs the CSVs; removes figures and report.html drawn from an
  // older run, and files that would contradict these (trials.csv, and trials.csv.gz unless
  // info.per_trial); renames the CSVs into place; completes manifest.json (each file's size and
  // CRC-32, the run's facts) and renames it last. A folder left half-written by a kill is recognized by `initscope
  // plot` until the same command finishes it. `before_commit`, when given, runs after every file is
  // synced and before the first rename (the caller's own sync, overlapped with these, joins there).
  void finish(RunInfo info, const std::function<void()>& before_commit = {});

 private:
  struct File {
    std::string name, tmp;
    int fd = -1;
    std::string buf;
    uint64_t bytes = 0, synced = 0;  // written; handed to the disk
    uint32_t crc = 0;
    int slot = -1;  // in sync_
  };
  void flush(File& f, bool all);
  void work();  // the writer thread
  void write_rows(const ConfigResult& r, const std::vector<LayerTheory>& theory);
  static constexpr std::size_t kQueue = kResultsQueue, kAhead = 256;
  std::string dir_;
  const Experiment& ex_;
  BackgroundSync sync_;  // (before files_: the files leave it before they are closed)
  File files_[4];        // stats.csv, histograms.csv, theory.csv, manifest.json
  static constexpr std::size_t kCsvs = 3, kManifest = 3;
  std::string head_;         // the manifest's head, as streamed
  std::size_t entries_ = 0;  // manifest entries streamed (the writer thread's)
  HistogramText hist_;
  // Shared with the writer thread, under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ConfigResult> queue_;
  std::map<std::size_t, std::vector<LayerTheory>> ahead_;  // theory computed ahead, by configuration
  std::size_t added_ = 0;                                  // configurations added so far
  // The writer is woken for a batch (kBatch results, or the oldest waiting kLatency), not for each
  // result: a wake-up per configuration cost the adding thread a futex call and a context switch
  // each, about 10 µs per configuration of a sweep of small networks.
  static constexpr std::size_t kBatch = 8;
  static constexpr std::chrono::milliseconds kLatency{50};
  std::chrono::steady_clock::time_point oldest_;  // when the queue last became non-empty
  bool draining_ = false;                         // woken: write until the queue is empty
  bool closing_ = false, busy_ = false, finishing_ = false;
  std::exception_ptr error_;
  std::thread thread_;
  bool finished_ = false;
};

// The whole results at once (a merge, and results held in memory).
void write_results(const std::string& dir, const Experiment& ex, const std::vector<ConfigResult>& rs,
                   const RunInfo& info);

}  // namespace isc
