// test_init_pipeline.cpp — the at-initialization units on the worker pool (init_pipeline.h): ranges
// computed side by side give the bits of one at a time; the workers go on while the calling thread
// commits; a stop keeps what was folded and resumes to the same bits; errors on either side end the
// run with the error, without hanging.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/multi_backend.h"
#include "host/app/output.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"

using namespace isc;

namespace {

// 24 small configurations of 9 trials in chunks of 2: 5 chunks each, several configurations queued
// at once on 2 workers.
Experiment small_sweep() {
  std::string gains;
  for (int i = 0; i < 24; ++i) gains += (i ? ", " : "") + std::to_string(0.6 + 0.05 * i);
  return parse_experiment(
      "trials = 9\nsamples = 6\n[run]\nchunk_trials = 2\n[network]\ninput = 12\nhidden = [10, 8]\n"
      "activation = \"tanh\"\n[stats]\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\"]\n"
      "[sweep]\n\"network.gain\" = [" +
          gains + "]\n",
      "pipeline.toml");
}

struct Csv {
  std::string stats, hist;
};
Csv csv_of(const Experiment& ex, const std::vector<ConfigResult>& r) {
  return {stats_csv(ex, r), histograms_csv(ex, r)};
}

}  // namespace

TEST(InitPipeline, RangesSideBySideGiveTheBitsOfOneAtATime) {
  // A per-trial sink makes the pipeline run one range at a time (trials.csv is written in order);
  // one thread has a single worker. Both are compared with the default, side by side on 2 workers.
  const Experiment ex = small_sweep();
  auto two = make_backend("cpu", {2});
  const Csv side_by_side = csv_of(ex, run_experiment(ex, *two));
  RunOptions one_at_a_time;
  std::vector<uint64_t> firsts;
  one_at_a_time.per_trial = [&](const ConfigResult&, uint64_t first, const std::vector<TrialStats>&) {
    firsts.push_back(first);
  };
  const Csv sequential = csv_of(ex, run_experiment(ex, *two, one_at_a_time));
  EXPECT_EQ(side_by_side.stats, sequential.stats);
  EXPECT_EQ(side_by_side.hist, sequential.hist);
  // The sink saw every chunk in trial order within each configuration: 0, 2, 4, 6, 8 each time.
  ASSERT_EQ(firsts.size(), 24u * 5);
  for (std::size_t k = 0; k < firsts.size(); ++k) EXPECT_EQ(firsts[k], 2 * (k % 5)) << k;
  auto single = make_backend("cpu", {1});
  const Csv one = csv_of(ex, run_experiment(ex, *single));
  EXPECT_EQ(side_by_side.stats, one.stats);
  EXPECT_EQ(side_by_side.hist, one.hist);
}

TEST(InitPipeline, WorkersGoOnWhileTheCallingThreadCommits) {
  // The commit of configuration 0 takes 300 ms (a slow disk, say): meanwhile the workers compute
  // configuration 1, whose chunks were queued as soon as configuration 0's were all dealt. Every
  // configuration is still committed and handed on in order.
  const Experiment ex = small_sweep();
  auto b = make_backend("cpu", {2});
  std::mutex mu;
  std::map<const SweepPoint*, int64_t> progress;
  RunOptions opt;
  opt.progress = [&](const SweepPoint& p, int64_t done, int64_t, bool) {
    std::lock_guard<std::mutex> lock(mu);
    progress[&p] = done;
  };
  int64_t seen_during_commit = -1;
  std::vector<std::size_t> committed, handed;
  opt.finished = [&](const ConfigResult& r) {
    const std::size_t i = std::size_t(r.point - ex.points.data());
    committed.push_back(i);
    if (i != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard<std::mutex> lock(mu);
    seen_during_commit = progress.count(&ex.points[1]) ? progress[&ex.points[1]] : 0;
  };
  opt.unit_done = [&](ConfigResult&& r) { handed.push_back(std::size_t(r.point - ex.points.data())); };
  run_experiment(ex, *b, opt);
  EXPECT_EQ(seen_during_commit, 9) << "configuration 1 was not computed while configuration 0 was committed";
  ASSERT_EQ(committed.size(), 24u);
  ASSERT_EQ(handed.size(), 24u);
  for (std::size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(committed[i], i);
    EXPECT_EQ(handed[i], i);
  }
}

TEST(InitPipeline, AStopKeepsWhatWasFoldedAndResumesToTheSameBits) {
  // Stopped when configuration 5 has 4 trials folded. One worker: no chunk is dealt after the stop,
  // so configurations 0-4 are committed, then the 4 folded trials of 5, in that order. Two workers
  // (ranges side by side): the chunks already dealt still finish and are kept, so the stop may
  // land later (configuration 5 finished, say); whatever was committed is in order, each range
  // once, and ends where Interrupted says. Either way a second run resuming from the commits gives
  // the uninterrupted run's bits.
  const Experiment ex = small_sweep();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(std::to_string(threads) + " worker(s)");
    auto b = make_backend("cpu", {threads});
    const Csv ref = csv_of(ex, run_experiment(ex, *b));
    std::atomic<bool> stop{false};
    std::map<std::string, std::vector<ConfigResult>> kept;  // by configuration id, in trial order
    std::vector<std::size_t> order;
    RunOptions opt;
    opt.stop = &stop;
    opt.progress = [&](const SweepPoint& p, int64_t done, int64_t, bool) {
      if (&p == &ex.points[5] && done >= 4) stop = true;
    };
    opt.finished = [&](const ConfigResult& r) {
      order.push_back(std::size_t(r.point - ex.points.data()));
      kept[r.point->id].push_back(r);
    };
    try {
      run_experiment(ex, *b, opt);
      FAIL() << "the stop was not seen";
    } catch (const Interrupted& e) {
      EXPECT_EQ(e.total, 24);
      if (threads == 1) {
        EXPECT_EQ(e.done, 5);
        EXPECT_EQ(e.kept_trials, 4u);
      }
      EXPECT_GE(e.done, 5);
      EXPECT_LT(e.kept_trials, 9u);
      ASSERT_EQ(order.size(), std::size_t(e.done) + (e.kept_trials > 0 ? 1 : 0));
      for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
      if (e.kept_trials > 0) {
        const ConfigResult& part = kept[ex.points[std::size_t(e.done)].id].back();
        EXPECT_EQ(part.first, 0u);
        EXPECT_EQ(part.end, e.kept_trials);
      }
    }
    RunOptions again;
    std::size_t resumed = 0;
    again.resume = [&](const SweepPoint& p, uint64_t first, uint64_t end) {
      std::vector<ConfigResult> out;
      for (const ConfigResult& r : kept[p.id])
        if (r.first >= first && r.end <= end) out.push_back(r);
      resumed += out.size();
      return out;
    };
    const Csv resumed_csv = csv_of(ex, run_experiment(ex, *b, again));
    EXPECT_EQ(resumed, order.size());
    EXPECT_EQ(resumed_csv.stats, ref.stats);
    EXPECT_EQ(resumed_csv.hist, ref.hist);
  }
}

TEST(InitPipeline, AStopAtAUnitBoundaryIsNotTakenForTheEnd) {
  // With a per-trial sink, one configuration runs at a time: the next is dealt only once the one
  // before is committed. A stop that comes with configuration 0's last fold leaves nothing open and
  // 23 configurations undealt; that is an interrupted run (1 of 24 done), not a finished one (the
  // pipeline used to return as if the sweep were complete).
  const Experiment ex = small_sweep();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(std::to_string(threads) + " worker(s)");
    auto b = make_backend("cpu", {threads});
    std::atomic<bool> stop{false};
    RunOptions opt;
    opt.stop = &stop;
    opt.per_trial = [](const ConfigResult&, uint64_t, const std::vector<TrialStats>&) {};
    opt.progress = [&](const SweepPoint& p, int64_t done, int64_t total, bool) {
      if (&p == &ex.points[0] && done == total) stop = true;
    };
    int finished = 0;
    opt.finished = [&](const ConfigResult&) { ++finished; };
    try {
      run_experiment(ex, *b, opt);
      FAIL() << "the stop was taken for the end of the sweep";
    } catch (const Interrupted& e) {
      EXPECT_EQ(e.done, 1);
      EXPECT_EQ(e.total, 24);
      EXPECT_EQ(e.kept_trials, 0u);
      EXPECT_EQ(finished, 1);
    }
  }
}

TEST(InitPipeline, AnErrorOnEitherSideEndsTheRunWithIt) {
  const Experiment ex = small_sweep();
  auto b = make_backend("cpu", {2});
  {  // on a worker (the per-trial sink runs where a chunk is folded)
    RunOptions opt;
    int calls = 0;
    opt.per_trial = [&](const ConfigResult&, uint64_t, const std::vector<TrialStats>&) {
      if (++calls == 7) throw std::runtime_error("sink failed");
    };
    try {
      run_experiment(ex, *b, opt);
      FAIL() << "the sink's error was lost";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "sink failed");
    }
  }
  {  // on the calling thread (a commit that fails: a full disk), with ranges running side by side
    RunOptions opt;
    opt.finished = [&](const ConfigResult& r) {
      if (r.point == &ex.points[3]) throw std::runtime_error("disk full");
    };
    try {
      run_experiment(ex, *b, opt);
      FAIL() << "the commit's error was lost";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "disk full");
    }
  }
}

namespace {

// A CPU backend whose chunk starting at trial 0 waits `delay` before it runs (a worker thread off
// the CPU on a loaded machine), and which reports each chunk it starts.
class LateFirstChunk final : public Backend {
 public:
  LateFirstChunk(std::chrono::milliseconds delay, std::function<void()> started)
      : cpu_(make_backend("cpu", {1})), delay_(delay), started_(std::move(started)) {}
  std::string name() const override { return cpu_->name(); }
  std::string description() const override { return cpu_->description(); }
  std::size_t memory_budget() const override { return cpu_->memory_budget(); }
  std::size_t worker_overhead_bytes(const WorkerShape& w) const override { return cpu_->worker_overhead_bytes(w); }
  int preferred_chunk_trials() const override { return cpu_->preferred_chunk_trials(); }
  int workers() const override { return 1; }
  std::unique_ptr<Backend> make_worker(int) const override { return nullptr; }
  std::unique_ptr<Buffer> alloc(std::size_t f) override { return cpu_->alloc(f); }
  void upload(Buffer& b, const float* h, std::size_t n) override { cpu_->upload(b, h, n); }
  void download(const Buffer& b, float* h, std::size_t n) const override { cpu_->download(b, h, n); }
  void begin_chunk(const Chunk& c) override {
    started_();
    if (c.first_trial == 0) std::this_thread::sleep_for(delay_);
    cpu_->begin_chunk(c);
  }
  ChunkStats end_chunk() override { return cpu_->end_chunk(); }
  void fill_input(Buffer& x, DataKind k, int w) override { cpu_->fill_input(x, k, w); }
  void init_weights(Buffer& w, const LayerDraw& d, int l, int o, int i) override { cpu_->init_weights(w, d, l, o, i); }
  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int o, int i) override {
    cpu_->gemm_forward(h, w, s, o, i);
  }
  void bias_activation_stats(Buffer& s, Buffer& h, const ActivationSpec& a, float b, int w, int l) override {
    cpu_->bias_activation_stats(s, h, a, b, w, l);
  }
  void jacobian_stats(const Buffer& s, const Buffer& w, const ActivationSpec& a, int o, int i, int l) override {
    cpu_->jacobian_stats(s, w, a, o, i, l);
  }
  void add_bias(Buffer& s, float b, int w, int l) override { cpu_->add_bias(s, b, w, l); }
  void fill_targets(Buffer& y, TargetKind k, const Buffer& x, int n, int c) override {
    cpu_->fill_targets(y, k, x, n, c);
  }
  void softmax_nll_grad(const Buffer& z, const Buffer& y, Buffer& g, int c) override {
    cpu_->softmax_nll_grad(z, y, g, c);
  }
  void gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int o, int i) override {
    cpu_->gemm_backward_data(g, w, dh, o, i);
  }
  void gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int o, int i) override {
    cpu_->gemm_weight_grad(g, h, dw, o, i);
  }
  void activation_grad_stats(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& a, int w,
                             int l) override {
    cpu_->activation_grad_stats(g, s, h, a, w, l);
  }
  void stats(const Buffer& x, std::size_t per, Quantity q, int l) override { cpu_->stats(x, per, q, l); }
  void bias_activate(Buffer& s, const Buffer& b, Buffer* h, const ActivationSpec& a, int w) override {
    cpu_->bias_activate(s, b, h, a, w);
  }
  void activation_grad(Buffer& g, const Buffer& s, const Buffer& h, const ActivationSpec& a, int w) override {
    cpu_->activation_grad(g, s, h, a, w);
  }
  void bias_grad(const Buffer& g, Buffer& db, int w) override { cpu_->bias_grad(g, db, w); }
  void sgd_update(Buffer& p, const Buffer& g, float lr, std::size_t n) override { cpu_->sgd_update(p, g, lr, n); }
  void nll_errors(const Buffer& z, const Buffer& y, int c, double* nll, int64_t* errors) override {
    cpu_->nll_errors(z, y, c, nll, errors);
  }

 private:
  std::unique_ptr<Backend> cpu_;
  std::chrono::milliseconds delay_;
  std::function<void()> started_;
};

}  // namespace

TEST(InitPipeline, ALateChunkHoldsBackAFewChunksOnly) {
  // 6,000 trials of one configuration in 60 chunks of 100, on two workers; the worker that takes
  // the first chunk is late by 300 ms. Chunks are folded in trial order, so the other worker's
  // results wait for it: it may run ahead by kUnfoldedPerWorker chunks per worker, or as many as
  // kUnfoldedBytes of per-trial statistics hold (before the bound it computed all 59, each result
  // held in memory), and the results are the bits of an undisturbed run.
  const Experiment ex = parse_experiment(
      "trials = 6000\nsamples = 6\n[run]\nchunk_trials = 100\n[network]\ninput = 12\nhidden = [10, 8]\n", "late.toml");
  std::atomic<int64_t> started{0}, folded{0}, most{0};
  auto note_start = [&] {
    const int64_t ahead = ++started - folded.load();
    int64_t m = most.load();
    while (ahead > m && !most.compare_exchange_weak(m, ahead)) {
    }
  };
  auto late = make_multi_backend(
      2, [&](std::size_t) { return std::make_unique<LateFirstChunk>(std::chrono::milliseconds(300), note_start); });
  ASSERT_EQ(late->workers(), 2);
  const MemoryPlan plan = plan_memory(ex.points[0].config, *late);
  ASSERT_EQ(plan.chunk_trials, 100);
  ASSERT_GT(plan.chunk_stats_bytes, 0u);
  const int64_t allowed =
      std::max<int64_t>(kUnfoldedPerWorker * 2, int64_t(kUnfoldedBytes / plan.chunk_stats_bytes) + 1);
  ASSERT_LT(allowed, 30) << "the test needs chunks whose statistics are large against kUnfoldedBytes";
  RunOptions opt;
  opt.progress = [&](const SweepPoint&, int64_t done, int64_t, bool) { folded = done / 100; };
  const auto got = run_experiment(ex, *late, opt);
  EXPECT_EQ(started.load(), 60);
  std::printf("  at most %lld chunks taken and not folded (allowed %lld)\n", static_cast<long long>(most.load()),
              static_cast<long long>(allowed));
  EXPECT_LE(most.load(), allowed) << "chunks taken and not yet folded";
  auto cpu = make_backend("cpu", {2});
  const Csv want = csv_of(ex, run_experiment(ex, *cpu)), have = csv_of(ex, got);
  EXPECT_EQ(have.stats, want.stats);
  EXPECT_EQ(have.hist, want.hist);
}
