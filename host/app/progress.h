// progress.h — the run's progress line: the running configuration's swept values, trials/s and an
// ETA for the whole sweep, weighted by each configuration's GEMM FLOPs.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "host/app/config.h"
#include "host/app/runner.h"

namespace isc {

class ProgressLine {
 public:
  // `live`: a terminal (one line rewritten in place, ~10 times a second); otherwise plain lines at
  // each configuration's end and every `period` seconds.
  // `units`: the work of this run, in the order it runs (a shard's share, or every configuration).
  ProgressLine(const Experiment& ex, const std::vector<WorkUnit>& units, bool live, std::FILE* out,
               double period = 10.0);
  // RunOptions::progress: `done` of `total` trials of the first unfinished unit of point p (units
  // usually run in order; a training group's evaluation points advance together). Resumed trials
  // count as done but not toward the rate.
  void update(const SweepPoint& p, int64_t done, int64_t total, bool resumed);

 private:
  using clock = std::chrono::steady_clock;
  // `unit`: the unit's index in the run's order (shown as [unit + 1/units]: units side by side finish
  // in any order), or units when it is not known.
  std::string line(const SweepPoint& p, int64_t done, int64_t total, std::size_t unit) const;
  bool live_;
  std::FILE* out_;
  double period_;
  std::vector<double> work_;              // FLOPs of each unit
  std::vector<const SweepPoint*> point_;  // each unit's point
  std::vector<double> done_, resumed_;    // each unit's fraction done, and resumed before this run
  double total_work_ = 0, done_work_ = 0, resumed_work_ = 0;
  std::size_t finished_ = 0, first_open_ = 0;  // units finished; the first unit not finished
  clock::time_point start_ = clock::now(), last_{};
};

// "42 s", "3:05", "1:02:03".
std::string format_duration(double seconds);

}  // namespace isc
