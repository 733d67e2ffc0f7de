// output.h — results writers (stats.csv, histograms.csv, theory.csv, trials.csv rows, manifest.json) and the
// terminal summary. Every file is written atomically: temp file in the same folder, then rename.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/app/runner.h"

namespace isc {

void write_file_atomic(const std::string& path, const std::string& content);
// The whole file as bytes ("" if it cannot be read).
std::string read_file(const std::string& path);

std::string stats_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string histograms_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string theory_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
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
  // Size and CRC-32 of each output file (filled by write_results): the manifest lists them, so that
  // `plot` can refuse a folder whose files are not all of this run.
  std::map<std::string, std::pair<uint64_t, uint32_t>> files;
};
nlohmann::json manifest(const Experiment& ex, const std::vector<ConfigResult>& rs, const RunInfo& info);

// Writes stats.csv, histograms.csv, theory.csv and manifest.json into dir (created if needed),
// manifest.json last; removes a trials.csv (older versions) and, unless info.per_trial, a
// trials.csv.gz of an earlier run, which would contradict the new files.
void write_results(const std::string& dir, const Experiment& ex, const std::vector<ConfigResult>& rs,
                   const RunInfo& info);

// One screen: per configuration, per layer, the key statistics.
std::string summary_table(const Experiment& ex, const std::vector<ConfigResult>& rs);

// Version and build facts, also printed by `initscope info`.
nlohmann::json build_info();

}  // namespace isc
