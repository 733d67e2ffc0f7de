// progress.cpp — FLOP-weighted progress and ETA for a sweep.
#include "host/app/progress.h"

#include <cmath>

namespace isc {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t < 60)
    std::snprintf(buf, sizeof buf, "%ld s", t);
  else if (t < 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

ProgressLine::ProgressLine(const Experiment& ex, const std::vector<WorkUnit>& units, bool live, std::FILE* out,
                           double period)
    : live_(live), out_(out), period_(period) {
  for (const auto& u : units) {
    work_.push_back(flops_per_trial(ex.points[u.point].config) * double(u.end - u.first));
    point_.push_back(&ex.points[u.point]);
    total_work_ += work_.back();
  }
  done_.assign(work_.size(), 0.0);
  resumed_.assign(work_.size(), 0.0);
}

std::string ProgressLine::line(const SweepPoint& p, int64_t done, int64_t total, std::size_t unit) const {
  std::string what;
  for (const auto& kv : p.swept) what += (what.empty() ? "" : ", ") + kv.first + "=" + kv.second;
  if (what.empty()) what = p.id;
  const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
  const double rate = elapsed > 0 ? (done_work_ - resumed_work_) / elapsed : 0;  // FLOPs/s of this run
  const double eta = rate > 0 ? (total_work_ - done_work_) / rate : NAN;
  const double f = flops_per_trial(p.config);
  const double trials_per_s = f > 0 ? rate / f : 0;
  const std::size_t units = work_.size();
  char rate_text[32];  // 3 significant digits, never in exponent notation: 0.123, 12.3, 1230
  if (trials_per_s >= 100)
    std::snprintf(rate_text, sizeof rate_text, "%.0f", trials_per_s);
  else
    std::snprintf(rate_text, sizeof rate_text, "%.3g", trials_per_s);
  char buf[256];
  std::snprintf(buf, sizeof buf, "  [%zu/%zu] %s: %lld/%lld trials, %s trials/s, ETA %s",
                unit < units ? unit + 1 : std::min(finished_ + (done < total), units), units, what.c_str(),
                static_cast<long long>(done), static_cast<long long>(total), rate_text,
                finished_ >= units ? "0 s" : format_duration(eta).c_str());
  return buf;
}

void ProgressLine::update(const SweepPoint& p, int64_t done, int64_t total, bool resumed) {
  std::size_t u = first_open_;
  while (u < point_.size() && (point_[u] != &p || done_[u] >= 1.0)) ++u;
  const bool resumed_whole = resumed && done == total;
  if (u < point_.size()) {
    const double f = total > 0 ? std::min(1.0, double(done) / double(total)) : 1.0;
    done_work_ += work_[u] * (f - done_[u]);
    if (resumed) {
      resumed_work_ += work_[u] * (f - resumed_[u]);
      resumed_[u] = f;
    }
    done_[u] = f;
    if (f >= 1.0) ++finished_;
    while (first_open_ < done_.size() && done_[first_open_] >= 1.0) ++first_open_;
  }
  const auto now = clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (done < total && since < (live_ ? 0.1 : period_)) return;
  last_ = now;
  const std::string l = line(p, done, total, u) + (resumed_whole ? " (resumed)" : "");
  if (live_)
    std::fprintf(out_, "\r%s\033[K%s", l.c_str(), done == total ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", l.c_str());
  std::fflush(out_);
}

}  // namespace isc
