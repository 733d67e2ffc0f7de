// output.h — results writers (stats.csv, histograms.csv, trials.csv, manifest.json) and the
// terminal summary. Every file is written atomically: temp file in the same folder, then rename.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/app/runner.h"

namespace isc {

void write_file_atomic(const std::string& path, const std::string& content);

std::string stats_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string histograms_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string theory_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);
std::string trials_csv(const Experiment& ex, const std::vector<ConfigResult>& rs);

struct RunInfo {
  std::string command_line;
  std::string device;  // backend name
  std::string device_description;
  std::string started_utc;
  double seconds = 0.0;
};
nlohmann::json manifest(const Experiment& ex, const std::vector<ConfigResult>& rs, const RunInfo& info);

// Writes the four files into dir (created if needed); manifest.json last.
void write_results(const std::string& dir, const Experiment& ex, const std::vector<ConfigResult>& rs,
                   const RunInfo& info);

// One screen: per configuration, per layer, the key statistics.
std::string summary_table(const Experiment& ex, const std::vector<ConfigResult>& rs);

// Version and build facts, also printed by `initscope info`.
nlohmann::json build_info();

}  // namespace isc
