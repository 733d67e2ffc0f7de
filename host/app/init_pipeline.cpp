// init_pipeline.cpp — the at-initialization units on a pool of worker threads, pipelined: the
// workers compute the next configuration's chunks while this thread commits the previous one.
#include "host/app/init_pipeline.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace isc {

namespace {

using Clock = std::chrono::steady_clock;

// A unit of work in progress: what is committed of it, the ranges still to compute, its whole
// result (handed on when every range is done).
struct Unit {
  std::size_t index = 0;  // into units
  const SweepPoint* p = nullptr;
  uint64_t lo = 0, hi = 0;
  int64_t trials = 0;  // hi - lo
  int64_t done = 0;    // trials committed or computed (progress); under the lock
  ConfigResult whole;
  std::optional<ConfigAggregator> agg;  // over its ranges, when it has more than one (or resumed ones)
  std::size_t ranges = 0;               // to compute
  std::size_t finished = 0;             // of them, committed
};

// One range of trials of a unit, cut into chunks that the workers take in order.
struct Job {
  Unit* unit = nullptr;
  uint64_t a = 0, b = 0;
  int chunk_trials = 1;
  int workers = 1;              // the plan's: workers with a higher index take none of its chunks
  bool side_by_side = false;    // may run beside other ranges (memory)
  int ahead = 4;                // the plan's ranges_ahead
  std::size_t chunk_bytes = 0;  // the plan's chunk_stats_bytes
  int64_t chunks = 0;
  WorkspaceSize need;
  ConfigResult r;  // the range's result: set up on creation, aggregated when every chunk is folded
  std::optional<ConfigAggregator> agg;
  // Under the lock:
  int64_t dealt = 0;                                   // chunks taken by a worker
  int64_t folded = 0;                                  // chunks folded into agg, in chunk order
  std::map<int64_t, std::vector<TrialStats>> pending;  // computed, waiting for the chunks before them
  std::vector<TrialStats> trials;                      // RunOptions::keep_trials
  bool started = false;
  Clock::time_point start, end;  // the first chunk's start, the last fold
  bool done() const { return folded == chunks; }
};

class Pipeline {
 public:
  Pipeline(const Experiment& ex, const std::vector<WorkUnit>& units, const std::vector<MemoryPlan>& plans,
           const std::vector<Backend*>& workers, std::vector<Workspace>& spaces, const RunOptions& opt,
           std::vector<ConfigResult>* results)
      : ex_(ex), units_(units), plans_(plans), workers_(workers), spaces_(spaces), opt_(opt), results_(results) {}

  ~Pipeline() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : pool_) t.join();
  }

  void run() {
    pool_.reserve(workers_.size());
    for (std::size_t w = 0; w < workers_.size(); ++w) pool_.emplace_back([this, w] { work(static_cast<int>(w)); });
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      deal(lock);
      if (open_.empty()) {
        // Nothing open and nothing left to deal: done. Units left undealt mean a stop came (an
        // error would have been thrown where it happened) after the last open unit had been
        // dealt: the run is interrupted at a unit boundary, not complete.
        if (error_) std::rethrow_exception(error_);
        if (next_unit_ < units_.size())
          throw Interrupted(static_cast<int>(next_unit_), static_cast<int>(units_.size()));
        return;
      }
      Unit& front = *open_.front();
      if (front.finished == front.ranges) {  // every range committed (or none to compute)
        std::unique_ptr<Unit> u = std::move(open_.front());
        open_.pop_front();
        lock.unlock();
        hand_on(*u);
        lock.lock();
        continue;
      }
      if (!jobs_.empty() && jobs_.front()->unit == &front && jobs_.front()->done()) {
        std::unique_ptr<Job> j = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        commit(*j);
        lock.lock();
        ++front.finished;
        continue;
      }
      if (running_ == 0 && error_) std::rethrow_exception(error_);
      if (running_ == 0 && stopping()) interrupted(lock);
      main_cv_.wait_for(lock, std::chrono::milliseconds(50));  // woken by every fold; polls the stop flag
    }
  }

 private:
  bool stopping() const { return opt_.stop && opt_.stop->load(); }
  int pool_size() const { return static_cast<int>(workers_.size()); }

  // Under the lock: creates and queues work while the workers may take it. The next range is
  // queued when the ranges before it have no chunk left to deal; several run side by side only
  // when every worker may take their chunks and no per-trial sink orders the writes.
  void deal(std::unique_lock<std::mutex>& lock) {
    for (;;) {
      if (error_ || stopping()) return;
      if (!ready_.empty()) {
        if (!may_queue(ready_.front()->side_by_side, ready_.front()->ahead)) return;
        jobs_.push_back(std::move(ready_.front()));
        ready_.pop_front();
        work_cv_.notify_all();
        continue;
      }
      if (next_unit_ >= units_.size()) return;
      // A new unit: only when what is queued leaves a worker without a chunk soon.
      const MemoryPlan& next = plans_[units_[next_unit_].point];
      if (!may_queue(side_by_side(next), next.ranges_ahead)) return;
      const std::size_t index = next_unit_++;
      lock.unlock();
      std::unique_ptr<Unit> u;
      std::deque<std::unique_ptr<Job>> made;
      try {
        u = prepare(index, &made);
      } catch (...) {
        lock.lock();
        throw;
      }
      lock.lock();
      if (opt_.progress && u->done > 0) opt_.progress(*u->p, u->done, u->trials, true);
      for (auto& j : made) ready_.push_back(std::move(j));
      open_.push_back(std::move(u));
    }
  }

  // Under the lock: whether a range (that may run side by side or not) is queued behind those
  // queued now.
  // `ahead`: the plan's ranges_ahead (what bounds the memory: each queued range holds its aggregate).
  // Queued chunks not yet dealt stay under kChunksAheadPerWorker per worker: enough for the workers to
  // go on while this thread is off the CPU. With 4, a sweep of 1,000 small configurations on 2 vCPUs
  // left the workers idle 1-7 ms in all, waiting for this thread to queue the next one (a thread
  // there may wait 1-4 ms for a CPU); with 16, 0-1.3 ms.
  static constexpr int kChunksAheadPerWorker = 16;
  bool may_queue(bool beside, int ahead) const {
    if (jobs_.empty()) return true;
    if (opt_.per_trial || jobs_.size() >= std::size_t(ahead) || !beside || !jobs_.back()->side_by_side) return false;
    int64_t left = 0;  // chunks not yet dealt
    for (const auto& j : jobs_) left += j->chunks - j->dealt;
    return left < kChunksAheadPerWorker * pool_size();
  }
  // Whether every worker may hold a workspace of this plan's chunks at once (memory is planned per
  // worker: a configuration planned for fewer workers than the pool, for its memory, runs alone).
  bool side_by_side(const MemoryPlan& plan) const { return plan.worker_total() * workers_.size() <= plan.budget_bytes; }

  // The unit's committed trials and the jobs of the rest (called without the lock).
  std::unique_ptr<Unit> prepare(std::size_t index, std::deque<std::unique_ptr<Job>>* jobs) {
    const WorkUnit& wu = units_[index];  // checked by run_experiment
    auto u = std::make_unique<Unit>();
    u->index = index;
    u->p = &ex_.points[wu.point];
    u->lo = wu.first;
    u->hi = wu.end;
    u->trials = int64_t(wu.end - wu.first);
    const Config& c = u->p->config;
    const MemoryPlan& plan = plans_[wu.point];
    const StatsSpec spec = stats_spec(c);
    const int layers = static_cast<int>(c.network.hidden.size());
    auto result_of = [&](uint64_t first, uint64_t end) {
      ConfigResult r;
      r.point = u->p;
      r.spec = spec;
      r.layers = layers;
      r.first = first;
      r.end = end;
      r.chunk_trials = plan.chunk_trials;
      r.workers = plan.workers;
      return r;
    };
    u->whole = result_of(u->lo, u->hi);
    Unit* raw = u.get();
    const Committed kept = committed_of(opt_, *u->p, u->lo, u->hi, [&](const ConfigResult& d) {
      if (!raw->agg) raw->agg.emplace(c, spec, layers);
      raw->agg->absorb(d);
    });
    u->whole.seconds += kept.seconds;
    u->done = kept.trials;
    u->ranges = kept.missing.size();
    if (u->ranges > 1 && !u->agg) u->agg.emplace(c, spec, layers);
    const WorkspaceSize need = workspace_size(c, plan.chunk_trials);
    for (const auto& range : kept.missing) {
      auto j = std::make_unique<Job>();
      j->unit = raw;
      j->a = range.first;
      j->b = range.second;
      j->chunk_trials = plan.chunk_trials;
      j->workers = plan.workers;
      j->side_by_side = side_by_side(plan);
      j->ahead = plan.ranges_ahead;
      j->chunk_bytes = plan.chunk_stats_bytes;
      j->chunks = (int64_t(j->b - j->a) + j->chunk_trials - 1) / j->chunk_trials;
      j->need = need;
      j->r = result_of(j->a, j->b);
      j->agg.emplace(c, spec, layers);
      if (opt_.keep_trials) j->trials.reserve(std::size_t(j->b - j->a) * std::size_t(layers) * kQuantities);
      jobs->push_back(std::move(j));
    }
    return u;
  }

  // A worker's loop: the first queued range with a chunk left (and this worker among its plan's),
  // one chunk at a time.
  void work(int w) {
    Backend& be = *workers_[std::size_t(w)];
    Workspace& space = spaces_[std::size_t(w)];
    try {
      be.bind_thread();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
      main_cv_.notify_all();
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      Job* j = nullptr;
      work_cv_.wait(lock, [&] { return quit_ || (j = next_chunk(w)) != nullptr; });
      if (quit_) return;
      const int64_t k = j->dealt++;
      if (j->dealt == j->chunks) main_cv_.notify_one();  // the next range may be queued
      ++running_;
      ++unfolded_;
      unfolded_bytes_ += j->chunk_bytes;
      if (!j->started) {
        j->started = true;
        j->start = Clock::now();
      }
      lock.unlock();
      std::vector<TrialStats> st;
      std::exception_ptr failed;
      try {
        if (!space.size.covers(j->need)) {
          space = Workspace{};  // free first: old and new need not fit together
          space = make_workspace(be, j->need);
        }
        const int64_t first = k * j->chunk_trials;  // within the range
        const int n = static_cast<int>(std::min<int64_t>(j->chunk_trials, int64_t(j->b - j->a) - first));
        st = run_chunk(be, space, j->unit->p->config, j->unit->p->stream, j->a + uint64_t(first), n);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      --running_;
      if (failed) {
        --unfolded_;
        unfolded_bytes_ -= j->chunk_bytes;
        if (!error_) error_ = failed;
      } else {
        try {
          j->pending.emplace(k, std::move(st));
          fold_ready(*j);
        } catch (...) {
          if (!error_) error_ = std::current_exception();
        }
      }
      main_cv_.notify_one();
    }
  }

  // Under the lock: the job whose next chunk worker w takes, or none.
  Job* next_chunk(int w) {
    if (error_ || stopping()) return nullptr;
    for (auto& j : jobs_) {
      if (j->dealt == j->chunks) continue;
      if (w >= j->workers) return nullptr;  // chunks are dealt in order
      // Chunks are folded in trial order: while one runs late (its thread off the CPU), the chunks
      // after it wait, each with its per-trial statistics. At most kUnfoldedPerWorker chunks per
      // worker are taken and not yet folded, or more while their statistics stay within
      // kUnfoldedBytes (small chunks: the workers ride out a late one); past that a worker waits
      // for the late one. The memory plan counts both. Without the bound a 150,000-trial run of a
      // tiny network on a loaded machine peaked at 110 MB instead of 33 MB.
      if (unfolded_ >= kUnfoldedPerWorker * pool_size() && unfolded_bytes_ + j->chunk_bytes > kUnfoldedBytes)
        return nullptr;
      return j.get();
    }
    return nullptr;
  }

  // Under the lock: folds the job's computed chunks that follow the folded ones, in chunk order.
  void fold_ready(Job& j) {
    const std::size_t per = std::size_t(j.r.layers) * kQuantities;
    for (auto it = j.pending.find(j.folded); it != j.pending.end(); it = j.pending.find(j.folded)) {
      const uint64_t first = j.a + uint64_t(j.folded) * uint64_t(j.chunk_trials);
      const std::vector<TrialStats>& st = it->second;
      const std::size_t n = per ? st.size() / per : 0;
      for (std::size_t t = 0; t < n; ++t) j.agg->add(first + t, st.data() + t * per);
      if (opt_.per_trial) opt_.per_trial(j.r, first, st);
      if (opt_.keep_trials) j.trials.insert(j.trials.end(), st.begin(), st.end());
      j.unit->done += int64_t(n);
      j.pending.erase(it);
      ++j.folded;
      // Workers may wait on the bound only while kUnfoldedPerWorker chunks per worker are out; all
      // are woken (one woken alone might be a worker this range's plan gives no chunks).
      if (unfolded_-- >= kUnfoldedPerWorker * pool_size()) work_cv_.notify_all();
      unfolded_bytes_ -= j.chunk_bytes;
      j.end = Clock::now();
      if (opt_.progress) opt_.progress(*j.unit->p, j.unit->done, j.unit->trials, false);
    }
  }

  // A finished range (called without the lock; no worker touches it any more): its result is
  // committed and folded into its unit's. Its time is from its first chunk's start, or from the end
  // of the range before if that ended later (side by side, each moment counts once), to its last fold.
  void commit(Job& j) {
    Unit& u = *j.unit;
    const Clock::time_point from = have_end_ ? std::max(j.start, last_end_) : j.start;
    j.r.seconds = std::max(0.0, std::chrono::duration<double>(j.end - from).count());
    last_end_ = have_end_ ? std::max(last_end_, j.end) : j.end;
    have_end_ = true;
    std::move(*j.agg).finish(&j.r);
    if (opt_.finished) opt_.finished(j.r);
    if (!u.agg && u.ranges == 1 && j.r.first == u.lo && j.r.end == u.hi) {
      j.r.trials = std::move(j.trials);
      u.whole = std::move(j.r);
      return;
    }
    if (opt_.keep_trials) u.whole.trials.insert(u.whole.trials.end(), j.trials.begin(), j.trials.end());
    u.agg->absorb(j.r);
    u.whole.seconds += j.r.seconds;
  }

  void hand_on(Unit& u) {
    if (u.agg) std::move(*u.agg).finish(&u.whole);
    if (opt_.unit_done)
      opt_.unit_done(std::move(u.whole));
    else
      results_->push_back(std::move(u.whole));
  }

  // Under the lock, stopped with no chunk running: the first unfinished range keeps its folded
  // beginning (committed), the rest is computed on resume.
  [[noreturn]] void interrupted(std::unique_lock<std::mutex>& lock) {
    Unit& u = *open_.front();
    const int done = static_cast<int>(u.index), total = static_cast<int>(units_.size());
    std::deque<std::unique_ptr<Job>>& from = !jobs_.empty() ? jobs_ : ready_;
    if (from.empty() || from.front()->unit != &u) throw Interrupted(done, total);
    std::unique_ptr<Job> j = std::move(from.front());
    from.pop_front();
    lock.unlock();
    const uint64_t kept = std::min<uint64_t>(uint64_t(j->folded) * uint64_t(j->chunk_trials), j->b - j->a);
    if (kept > 0) {
      j->r.end = j->a + kept;
      j->r.seconds = std::chrono::duration<double>(j->end - j->start).count();
      std::move(*j->agg).finish(&j->r);
      if (opt_.finished) opt_.finished(j->r);
    }
    lock.lock();
    throw Interrupted(done, total, j->a + kept - u.lo);
  }

  const Experiment& ex_;
  const std::vector<WorkUnit>& units_;
  const std::vector<MemoryPlan>& plans_;
  const std::vector<Backend*>& workers_;
  std::vector<Workspace>& spaces_;
  const RunOptions& opt_;
  std::vector<ConfigResult>* results_;

  std::mutex mu_;  // everything below
  std::condition_variable work_cv_, main_cv_;
  std::vector<std::thread> pool_;
  bool quit_ = false;
  std::exception_ptr error_;
  int64_t running_ = 0;             // chunks being computed
  int64_t unfolded_ = 0;            // chunks taken and not yet folded (running, or computed and waiting)
  std::size_t unfolded_bytes_ = 0;  // their per-trial statistics (the plans' chunk_stats_bytes)
  std::size_t next_unit_ = 0;
  std::deque<std::unique_ptr<Unit>> open_;  // prepared, in unit order
  std::deque<std::unique_ptr<Job>> ready_;  // made, not yet queued, in order
  std::deque<std::unique_ptr<Job>> jobs_;   // queued, in order
  // Only the calling thread:
  bool have_end_ = false;
  Clock::time_point last_end_;
};

}  // namespace

void run_init_units(const Experiment& ex, const std::vector<WorkUnit>& units, const std::vector<MemoryPlan>& plans,
                    const std::vector<Backend*>& workers, std::vector<Workspace>& spaces, const RunOptions& opt,
                    std::vector<ConfigResult>* results) {
  Pipeline p(ex, units, plans, workers, spaces, opt, results);
  p.run();
}

}  // namespace isc
