// trials_writer.h — gzip streams of trials.csv rows (the opt-in per-trial output), written chunk by
// chunk as the trials are aggregated (zlib), under a temporary name until committed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/app/runner.h"

namespace isc {

class TrialsCsvGz {
 public:
  // Opens PATH.tmp.PID and writes `header` (may be empty) as the first bytes of the stream.
  TrialsCsvGz(const std::string& path, const std::string& header);
  // Without commit(): the temporary file is removed.
  ~TrialsCsvGz();
  TrialsCsvGz(const TrialsCsvGz&) = delete;
  TrialsCsvGz& operator=(const TrialsCsvGz&) = delete;

  // The rows of trials [first, first + n) of one configuration (a RunOptions::per_trial sink).
  void write(const ConfigResult& r, uint64_t first, const std::vector<TrialStats>& st);
  // Finishes the stream, flushes it to disk and renames it to PATH.
  void commit();
  // The same, to another final path (chosen when the rows' range is known).
  void commit_as(const std::string& path);

 private:
  void put(const std::string& text);
  std::string tmp_, final_;
  int fd_ = -1;
  void* gz_ = nullptr;  // gzFile
};

}  // namespace isc
