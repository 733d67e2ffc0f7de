// output.h — results writers (stats.csv, histograms.csv, theory.csv, trials.csv rows, manifest.json) and the
// terminal summary. Every file is written atomically: temp file in the same folder, then rename.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/app/runner.h"
#include "host/app/theory.h"

namespace isc {

// Writes all n bytes at p to fd, after short writes and EINTR too: 0, or the errno of the write that
// failed (EIO for one that wrote nothing).
int write_all(int fd, const void* p, std::size_t n);
// Why a write failed, for a message: strerror, and a hint where the disk is full or a limit reached.
std::string write_error(int err);
void write_file_atomic(const std::string& path, const std::string& content);
// write_file_atomic in two steps: the content written and synced under a temporary name (returned),
// then renamed over `path` (commit_file). Between them the old `path` is still whole.
std::string write_file_synced(const std::string& path, const std::string& content);
void commit_file(const std::string& tmp, const std::string& path);
// The whole file as bytes ("" if it cannot be read).
std::string read_file(const std::string& path);
// zlib's CRC-32 of n bytes, continuing `crc` (0 to start), for any n (zlib takes 32-bit lengths).
uint32_t crc32_of(const void* p, std::size_t n, uint32_t crc = 0);

// The tidy CSVs whole (tests, and outputs built in memory), and by parts: each file's header and one
// configuration's rows appended to a text (ResultsWriter streams them).
std::string stats_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string histograms_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string stats_csv_header(const Experiment& ex);
std::string histograms_csv_header(const Experiment& ex);
std::string theory_csv_header(const Experiment& ex);
void append_stats_rows(std::string& out, const ConfigResult& r);
void append_theory_rows(std::string& out, const ConfigResult& r, const std::vector<LayerTheory>& theory);
// histograms.csv rows: the bins' text (index and edges) is the same for every configuration with the
// same range, so it is formatted once per range and kept.
class HistogramText {
 public:
  void append_rows(std::string& out, const ConfigResult& r);

 private:
  struct Bins {
    std::string underflow, overflow;  // "underflow,-inf,<lo>," and "overflow,<hi>,inf,"
    std::vector<std::string> edges;   // "<i>,<lo>,<hi>,"
    std::vector<double> width;        // hi - lo
  };
  const Bins& bins(const HistRange& range);
  std::vector<std::pair<HistRange, Bins>> cache_;
};
// trials.csv: the header, the rows of trials [first, first + n) of one configuration, and the whole
// file for results kept with RunOptions::keep_trials. check_trials_columns throws when the
// configurations' percentiles (and so the columns) differ.
std::string trials_csv_header(const Experiment& ex);
std::string trials_csv_rows(const ConfigResult& r, uint64_t first, const std::vector<TrialStats>& st);
std::string trials_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
void check_trials_columns(const Experiment& ex);

// About how many bytes a run writes into its folder (the parts, the final CSVs, and trials.csv.gz
// and its parts when per-trial rows are written): an estimate from row counts and measured bytes
// per row, used to refuse a run before compute when the disk cannot hold it.
uint64_t estimated_output_bytes(const Experiment& ex, bool per_trial);

struct RunInfo {
  std::string command_line;
  std::string device;  // backend name
  std::string device_description;
  std::string started_utc;
  double seconds = 0.0;
  bool per_trial = false;  // trials.csv.gz was written
  // Size and CRC-32 of each output file (filled by ResultsWriter): the manifest lists them, so that
  // `plot` can refuse a folder whose files are not all of this run.
  std::map<std::string, std::pair<uint64_t, uint32_t>> files;
};
// manifest.json: the run's facts, and per configuration its entry (config_id, swept values,
// resolved form, seed, Philox key, seconds, trials per second, chunk size, workers), written by
// manifest_entry_text as an element of the "configurations" array of the document indented by 2.
// Each entry is rendered once, by the results writer, as its configuration finishes: with thousands
// of configurations, building the whole document at the end took tens of milliseconds of the main
// thread.
std::string manifest_entry_text(const ConfigResult& r);
// The document around its "configurations" array: `head` up to the array, `tail` after it. Keys are
// sorted, and only "command_line" comes before "configurations": the head depends on the command
// line alone (manifest_head), so the results writer streams the head and the entries to disk as
// configurations finish, and writes the tail at the end.
struct ManifestParts {
  std::string head, tail;
};
ManifestParts manifest_parts(const Experiment& ex, const RunInfo& info);
std::string manifest_head(const std::string& command_line);
// What goes before entry `index` of the array, and after the last of `entries` of them.
std::string manifest_entry_joint(std::size_t index);
std::string manifest_entries_end(std::size_t entries);
// The whole document at once: head, the entries joined, tail (what the streamed file holds).
std::string manifest_text(const Experiment& ex, const std::vector<std::string>& entries, const RunInfo& info);

// One screen: per configuration, per layer, the key statistics.
std::string summary_table(const Experiment& ex, const std::vector<ConfigResult>& rs);

// Version and build facts, also printed by `initscope info`.
nlohmann::json build_info();

}  // namespace isc
