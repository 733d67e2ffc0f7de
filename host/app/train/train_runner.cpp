// train_runner.cpp — training groups in `initscope run`: chunks trained once, measured at each
// evaluation point through run_chunk with the trained parameters, committed as they come; checkpoints.
#include "host/app/train/train_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "host/app/binary_io.h"
#include "host/app/data_source.h"
#include "host/app/output.h"
#include "host/app/train/train_step.h"
#include "kernels/philox.h"
#include "kernels/rng.h"

namespace isc {
namespace {

MlpShape shape_of(const Config& c) {
  MlpShape s;
  s.input = c.network.input;
  s.hidden = c.network.hidden;
  s.classes = c.network.output;
  s.act = c.network.activation;
  return s;
}

uint64_t data_key(const Config& c) {
  std::string src = std::string("train:") + to_string(c.data) + "|" + std::to_string(c.data_files.seed) + "|" +
                    c.data_files.images + "|" + c.data_files.labels;
  for (const auto& f : c.data_files.files) src += "|" + f;
  return mix64(c.seed ^ mix64(fnv1a(src)));  // (not the test set: it does not change what trains)
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Checkpoint bytes: magic, format, then the fields; a CRC-32 of everything before it last.
constexpr char kCkMagic[4] = {'I', 'S', 'C', 'K'};
constexpr uint32_t kCkFormat = 1;

// Trial `trial`'s example j of update `step`, with the data set's key and held-out count computed
// once per minibatch (they cost a string and a hash).
uint64_t example_index(uint64_t key, uint64_t held, uint64_t dataset_size, int minibatch, uint64_t trial, int64_t step,
                       int j) {
  const U32x4 r = philox_block(key, trial, uint64_t(step) * uint64_t(minibatch) + uint64_t(j));
  const uint64_t x = uint64_t(r.x) | (uint64_t(r.y) << 32);
  if (dataset_size == 0) return held + (x >> 2);  // a stream: any example after the held-out ones
  return held + x % (dataset_size - held);
}

}  // namespace

uint64_t train_example_index(const Config& c, uint64_t dataset_size, uint64_t trial, int64_t step, int j) {
  return example_index(data_key(c), held_out_examples(c), dataset_size, c.train.minibatch, trial, step, j);
}

MlpBatch train_minibatch(const Config& c, uint64_t first, int trials, int64_t step, int threads) {
  const std::shared_ptr<const Dataset> d = dataset_of(c.data, c.data_files);
  const int B = c.train.minibatch, in = d->input();
  MlpBatch b;
  b.samples = B;
  b.x.resize(std::size_t(trials) * std::size_t(B) * std::size_t(in));
  b.y.resize(std::size_t(trials) * std::size_t(B));
  const int64_t rows = int64_t(trials) * B;
  const uint64_t key = data_key(c), held = held_out_examples(c);
#pragma omp parallel for schedule(static) num_threads(std::max(1, threads)) if (threads > 1)
  for (int64_t row = 0; row < rows; ++row) {
    const uint64_t idx = example_index(key, held, d->size(), B, first + uint64_t(row / B), step, int(row % B));
    b.y[std::size_t(row)] = d->example(idx, b.x.data() + std::size_t(row) * std::size_t(in));
  }
  return b;
}

std::string checkpoint_path(const std::string& dir, const std::string& group, uint64_t first, uint64_t end) {
  return dir + "/" + group + "." + std::to_string(first) + "-" + std::to_string(end) + ".ckpt";
}

void write_checkpoint(const std::string& path, const TrainCheckpoint& ck) {
  BinaryWriter w;
  std::size_t floats = 0;
  for (const auto& v : ck.params.W) floats += v.size();
  w.reserve(floats * sizeof(float) + 4096);
  uint32_t magic;
  std::memcpy(&magic, kCkMagic, 4);
  w.put(magic);
  w.put<uint32_t>(kCkFormat);
  w.str(ck.group);
  w.put<uint64_t>(ck.first);
  w.put<uint64_t>(ck.end);
  w.put<int64_t>(ck.update);
  w.put<int64_t>(ck.steps);
  w.put<uint32_t>(uint32_t(ck.params.W.size()));
  for (std::size_t l = 0; l < ck.params.W.size(); ++l) {
    w.array(ck.params.W[l]);
    w.array(ck.params.b[l]);
  }
  w.array(ck.nll);
  w.array(ck.errors);
  std::string s = w.take();
  const uint32_t crc = crc32_of(s.data(), s.size());
  s.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  write_file_atomic(path, s);
}

bool read_checkpoint(const std::string& path, const MlpShape& shape, TrainCheckpoint* ck, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  auto bad = [&](const std::string& w) {
    if (why) *why = path + ": " + w;
    return false;
  };
  if (s.size() < 12 || std::memcmp(s.data(), kCkMagic, 4) != 0) return bad("not a checkpoint");
  uint32_t crc = 0;
  std::memcpy(&crc, s.data() + s.size() - 4, 4);
  if (crc != crc32_of(s.data(), s.size() - 4)) return bad("damaged (CRC-32 mismatch)");
  try {
    BinaryReader r(s.data() + 4, s.size() - 8);  // between the magic and the CRC
    if (r.get<uint32_t>() != kCkFormat) return bad("of another format");
    TrainCheckpoint c;
    c.group = r.str();
    c.first = r.get<uint64_t>();
    c.end = r.get<uint64_t>();
    c.update = r.get<int64_t>();
    c.steps = r.get<int64_t>();
    const uint32_t layers = r.get<uint32_t>();
    if (c.group.size() > 64 || c.end <= c.first || c.end - c.first > uint64_t(INT_MAX) ||
        int(layers) != shape.layers() || c.update < 0 || c.steps < 0 || c.steps > c.update)
      return bad("of another shape");
    const int T = int(c.end - c.first);
    // The sizes T networks of `shape` have, compared before anything of that size is allocated (a
    // file's arrays are no longer than the file): a range of 2^31 trials must not allocate 2^31 networks.
    for (int l = 0; l < shape.layers(); ++l) {
      c.params.W.push_back(r.array<float>());
      c.params.b.push_back(r.array<float>());
      const uint64_t outs = uint64_t(T) * uint64_t(shape.out(l));
      if (c.params.W.back().size() != outs * uint64_t(shape.in(l)) || c.params.b.back().size() != outs)
        return bad("of another network");
    }
    c.params.trials = T;
    c.nll = r.array<double>();
    c.errors = r.array<double>();
    if (c.nll.size() != std::size_t(T) || c.errors.size() != std::size_t(T) || !r.done())
      return bad("of another network");
    *ck = std::move(c);
    return true;
  } catch (const std::runtime_error& e) {
    return bad(std::string("damaged (") + e.what() + ")");
  }
}

std::vector<ConfigResult> run_training(const TrainRun& run, const RunOptions& opt) {
  const Experiment& ex = *run.ex;
  const std::size_t E = run.points.size();
  if (E == 0 || run.end <= run.first || run.workers.empty()) throw std::logic_error("run_training: nothing to run");
  const SweepPoint& p0 = ex.points[run.points[0]];
  const Config& c0 = p0.config;
  const MlpShape shape = shape_of(c0);
  const int layers = int(c0.network.hidden.size());
  const uint64_t lo = run.first, hi = run.end;
  auto stopping = [&] { return opt.stop && opt.stop->load(); };
  for (std::size_t e = 1; e < E; ++e)
    if (ex.points[run.points[e]].train_group != p0.train_group ||
        ex.points[run.points[e]].config.train.update <= ex.points[run.points[e - 1]].config.train.update)
      throw std::logic_error("run_training: points of several groups, or out of update order");

  // Per point: what is committed, and what is missing.
  std::vector<ConfigAggregator> unit;
  std::vector<ConfigResult> whole(E);
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> missing(E);
  std::vector<StatsSpec> spec(E);
  std::vector<int64_t> progress_done(E, 0);
  for (std::size_t e = 0; e < E; ++e) {
    const SweepPoint& p = ex.points[run.points[e]];
    spec[e] = stats_spec(p.config);
    unit.emplace_back(p.config, spec[e], layers);
    ConfigResult& w = whole[e];
    w.point = &p;
    w.spec = spec[e];
    w.layers = layers;
    w.first = lo;
    w.end = hi;
    w.chunk_trials = run.plan.chunk_trials;
    w.workers = run.plan.workers;
    const Committed kept = committed_of(opt, p, lo, hi, [&](const ConfigResult& d) { unit[e].absorb(d); });
    missing[e] = kept.missing;
    w.seconds += kept.seconds;
    if (opt.progress && kept.trials > 0) opt.progress(p, kept.trials, int64_t(hi - lo), true);
    progress_done[e] = kept.trials;  // the trials of this point done so far, resumed ones included
  }

  const int64_t C = std::max(1, run.plan.chunk_trials);
  const int64_t chunks = (int64_t(hi - lo) + C - 1) / C;
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false}, stopped{false};
  std::mutex mu;
  std::exception_ptr error;

  auto train_chunk = [&](int w, int64_t k) {
    Backend& be = *run.workers[std::size_t(w)];
    Workspace& space = (*run.spaces)[std::size_t(w)];
    const uint64_t a = lo + uint64_t(k * C);
    const int n = int(std::min<uint64_t>(uint64_t(C), hi - a));
    // The sub-ranges of this chunk each point misses.
    std::vector<std::vector<std::pair<uint64_t, uint64_t>>> need(E);
    int64_t first_need = -1, last_need = -1;
    for (std::size_t e = 0; e < E; ++e) {
      for (const auto& m : missing[e]) {
        const uint64_t x = std::max(m.first, a), y = std::min(m.second, a + uint64_t(n));
        if (x < y) need[e].push_back({x, y});
      }
      if (!need[e].empty()) {
        const int64_t u = ex.points[run.points[e]].config.train.update;
        if (first_need < 0) first_need = u;
        last_need = u;
      }
    }
    if (first_need < 0) return;  // every point has this chunk already
    const auto t_chunk = std::chrono::steady_clock::now();
    const std::string ck_path =
        opt.checkpoints.empty() ? std::string() : checkpoint_path(opt.checkpoints, p0.train_group, a, a + uint64_t(n));
    // Start: the checkpoint when it is not past the first point needed, else the initial networks.
    TrainCheckpoint ck;
    bool resumed = false;
    if (!ck_path.empty()) {
      std::string why;
      resumed = read_checkpoint(ck_path, shape, &ck, &why) && ck.group == p0.train_group && ck.first == a &&
                ck.end == a + uint64_t(n) && ck.update <= first_need;
      if (resumed && ck.update == 0) resumed = false;
      if (!resumed && why.empty() && ck.update > 0 && std::filesystem::exists(ck_path))
        why = ck_path + ": of another chunk, or past the first evaluation point still missing";
      std::lock_guard<std::mutex> lock(mu);
      if (opt.note && resumed)
        opt.note("trials " + std::to_string(a) + "-" + std::to_string(a + uint64_t(n)) + " of training group " +
                 p0.train_group + " resume from update " + std::to_string(ck.update) + " (" + ck_path + ")");
      if (opt.note && !why.empty()) opt.note("checkpoint not used, training again from update 0: " + why);
    }
    if (!resumed) {
      ck = TrainCheckpoint{};
      ck.group = p0.train_group;
      ck.first = a;
      ck.end = a + uint64_t(n);
      ck.params = init_params(shape, c0.network.init, p0.stream, a, n);
      ck.nll.assign(std::size_t(n), 0.0);
      ck.errors.assign(std::size_t(n), 0.0);
    }
    const int B = c0.train.minibatch;
    Chunk tc;
    tc.stream = p0.stream;
    tc.first_trial = a;
    tc.trials = n;
    tc.samples = B;
    tc.layers = layers;
    for (bool& en : tc.stats.enabled) en = false;
    TrainState st = make_train_state(be, shape, n, B);
    be.begin_chunk(tc);
    upload_params(be, st, ck.params);
    ck.params = MlpParams{};  // the backend holds them now
    int64_t at = ck.update, steps = ck.steps;
    std::vector<double> acc_nll = std::move(ck.nll), acc_err = std::move(ck.errors);
    std::vector<double> nll(static_cast<std::size_t>(n));
    std::vector<int64_t> err(static_cast<std::size_t>(n));
    auto save = [&] {
      TrainCheckpoint out;
      out.group = p0.train_group;
      out.first = a;
      out.end = a + uint64_t(n);
      out.update = at;
      out.steps = steps;
      out.params = download_params(be, st);
      out.nll = acc_nll;
      out.errors = acc_err;
      write_checkpoint(ck_path, out);
    };
    auto last_save = std::chrono::steady_clock::now();
    const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
    const bool prefetch = opt.prefetch_minibatches < 0 ? be.name().rfind("cpu", 0) != 0 : opt.prefetch_minibatches > 0;
    const int render_threads = prefetch ? std::max(1, hw - 1) : 1;
    std::future<MlpBatch> ahead;
    int64_t ahead_step = -1;
    auto t_eval = t_chunk;
    for (std::size_t e = 0; e < E; ++e) {
      const SweepPoint& p = ex.points[run.points[e]];
      const int64_t u = p.config.train.update;
      if (u < at) continue;  // before the checkpoint: committed already
      while (at < u) {
        if (stopping() || failed.load()) {
          if (!ck_path.empty() && !failed.load() && at > 0) save();  // (at update 0 the start is known)
          stopped = true;
          return;
        }
        if (at > 0 && at % c0.train.eval_every == 0) {
          // An evaluation point of the group's schedule (measured here or not, e.g. by another
          // shard): the training statistics of the next one cover the updates after it.
          std::fill(acc_nll.begin(), acc_nll.end(), 0.0);
          std::fill(acc_err.begin(), acc_err.end(), 0.0);
          steps = 0;
        }
        // This update's minibatch; on a GPU, rendered ahead on the host's cores while the previous
        // step runs on the device (on the CPU the worker renders its own: the cores are busy).
        MlpBatch batch =
            ahead.valid() && ahead_step == at ? ahead.get() : train_minibatch(c0, a, n, at, render_threads);
        if (prefetch && at + 1 < last_need) {
          ahead = std::async(std::launch::async, train_minibatch, std::cref(c0), a, n, at + 1, render_threads);
          ahead_step = at + 1;
        }
        upload_batch(be, st, batch);
        train_step(be, st, float(c0.train.learning_rate));
        // The minibatch's cost before the step: the logits train_step computed.
        be.nll_errors(*st.s.back(), *st.y, shape.classes, nll.data(), err.data());
        for (int t = 0; t < n; ++t) {
          acc_nll[std::size_t(t)] += nll[std::size_t(t)];
          acc_err[std::size_t(t)] += double(err[std::size_t(t)]);
        }
        ++at;
        ++steps;
      }
      if (!need[e].empty()) {
        const Config& c = p.config;
        const WorkspaceSize want = workspace_size(c, n, true);
        if (!space.size.covers(want)) {
          space = Workspace{};
          space = make_workspace(be, want);
        }
        TrainedParams tp;
        for (int l = 0; l < shape.layers(); ++l) {
          tp.W.push_back(st.W[std::size_t(l)].get());
          tp.b.push_back(st.b[std::size_t(l)].get());
        }
        const std::vector<TrialStats> ts = run_chunk(be, space, c, p.stream, a, n, &tp);
        be.begin_chunk(tc);  // back to training
        const std::size_t per = std::size_t(layers) * kQuantities;
        std::vector<double> tv(std::size_t(n) * kTrainStats);
        const double S = double(c.samples), done = double(steps) * double(B);
        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (int t = 0; t < n; ++t) {
          double* v = tv.data() + std::size_t(t) * kTrainStats;
          v[0] = double(tp.errors[std::size_t(t)]) / S;
          v[1] = tp.nll[std::size_t(t)] / S;
          v[2] = steps > 0 ? acc_err[std::size_t(t)] / done : nan;
          v[3] = steps > 0 ? acc_nll[std::size_t(t)] / done : nan;
        }
        const double secs = seconds_since(t_eval);
        t_eval = std::chrono::steady_clock::now();
        for (const auto& r : need[e]) {
          ConfigAggregator agg(c, spec[e], layers);
          for (uint64_t t = r.first; t < r.second; ++t)
            agg.add(t, ts.data() + std::size_t(t - a) * per, tv.data() + std::size_t(t - a) * kTrainStats);
          ConfigResult part;
          part.point = &p;
          part.spec = spec[e];
          part.layers = layers;
          part.first = r.first;
          part.end = r.second;
          part.chunk_trials = int(C);
          part.workers = run.plan.workers;
          part.seconds = secs * double(r.second - r.first) / double(n);
          std::move(agg).finish(&part);
          std::lock_guard<std::mutex> lock(mu);
          if (opt.finished) opt.finished(part);
          unit[e].absorb(part);
          whole[e].seconds += part.seconds;
          progress_done[e] += int64_t(r.second - r.first);
          if (opt.progress) opt.progress(p, progress_done[e], int64_t(hi - lo), false);
        }
      }
      if (u >= last_need) break;
      if (!ck_path.empty() && seconds_since(last_save) >= c0.train.checkpoint_seconds) {
        save();
        last_save = std::chrono::steady_clock::now();
      }
    }
    if (!ck_path.empty()) {
      std::error_code ec;
      std::filesystem::remove(ck_path, ec);
    }
  };

  auto work = [&](int w) {
    try {
      run.workers[std::size_t(w)]->bind_thread();  // a GPU: its device, current on this thread
      for (;;) {
        if (stopping()) {
          stopped = true;
          return;
        }
        const int64_t k = next.fetch_add(1);
        if (k >= chunks || failed.load()) return;
        train_chunk(w, k);
        if (stopped.load()) return;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  const int W = std::max(1, std::min<int>(run.plan.workers, int(run.workers.size())));
  if (W == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    for (int w = 1; w < W; ++w) threads.emplace_back(work, w);
    work(0);
    for (auto& t : threads) t.join();
  }
  if (error) std::rethrow_exception(error);
  if (stopped.load()) throw Interrupted(run.done_units, run.total_units);
  for (std::size_t e = 0; e < E; ++e) std::move(unit[e]).finish(&whole[e]);
  return whole;
}

}  // namespace isc
