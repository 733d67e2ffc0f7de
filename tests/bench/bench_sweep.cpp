// bench_sweep.cpp — a sweep's compute time through the engine beside the time of its GEMMs alone, on
// any backend: the GEMMs are the runner's own calls (run_chunk_ops with every other op skipped) on
// the same shapes, chunks and workers. Prints per-configuration and total ratios; never asserts times.
//
//   initscope_bench_sweep CONFIG [--device cpu|cuda|cuda:N] [--repeats R] [--set key=value]...
//
// "Engine" is run_experiment over the whole sweep (what `initscope run` times as compute: every
// configuration's setup, draws, GEMMs, statistics, copies back, aggregation; no files), best of R
// after a warm-up of the first configuration. "GEMMs alone" is, per configuration, its chunks'
// GEMMs back to back on workspaces allocated (and zeroed) before the clock starts, each worker
// on its own thread as the runner drives them, best of R; the sweep's figure is their sum. For a
// data set's input (data.kind other than gaussian or uniform), the GEMM-only time also holds the
// host-side copy of the examples that run_chunk_ops makes per chunk.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"

using namespace isc;
using clk = std::chrono::steady_clock;

namespace {

// A backend that runs only the GEMMs of the one it wraps (and what they need: buffers and the
// chunk's shape); every other op does nothing. Operands keep whatever they held (zeros, see below).
class GemmOnly final : public Backend {
 public:
  explicit GemmOnly(Backend& b) : b_(b) {}
  std::string name() const override { return b_.name(); }
  std::string description() const override { return b_.description(); }
  std::size_t memory_budget() const override { return b_.memory_budget(); }
  int preferred_chunk_trials() const override { return b_.preferred_chunk_trials(); }
  int workers() const override { return 1; }
  std::unique_ptr<Backend> make_worker(int) const override { return nullptr; }
  void bind_thread() override { b_.bind_thread(); }
  std::unique_ptr<Buffer> alloc(std::size_t floats) override { return b_.alloc(floats); }
  void upload(Buffer&, const float*, std::size_t) override {}
  void download(const Buffer& b, float* host, std::size_t n) const override { b_.download(b, host, n); }
  void begin_chunk(const Chunk& c) override { b_.begin_chunk(c); }  // (the chunk's shape, for the GEMMs)
  // No statistics to return: nothing is copied back, and nothing waits for the chunk's GEMMs (the
  // worker's last download does, once).
  ChunkStats end_chunk() override { return ChunkStats{}; }
  void fill_input(Buffer&, DataKind, int) override {}
  void init_weights(Buffer&, const LayerDraw&, int, int, int) override {}
  void gemm_forward(const Buffer& h, const Buffer& w, Buffer& s, int n_out, int n_in) override {
    b_.gemm_forward(h, w, s, n_out, n_in);
  }
  void bias_activation_stats(Buffer&, Buffer&, const ActivationSpec&, float, int, int) override {}
  void jacobian_stats(const Buffer&, const Buffer&, const ActivationSpec&, int, int, int) override {}
  void add_bias(Buffer&, float, int, int) override {}
  void fill_targets(Buffer&, TargetKind, const Buffer&, int, int) override {}
  void softmax_nll_grad(const Buffer&, const Buffer&, Buffer&, int) override {}
  void gemm_backward_data(const Buffer& g, const Buffer& w, Buffer& dh, int n_out, int n_in) override {
    b_.gemm_backward_data(g, w, dh, n_out, n_in);
  }
  void gemm_weight_grad(const Buffer& g, const Buffer& h, Buffer& dw, int n_out, int n_in) override {
    b_.gemm_weight_grad(g, h, dw, n_out, n_in);
  }
  void activation_grad_stats(Buffer&, const Buffer&, const Buffer&, const ActivationSpec&, int, int) override {}
  void stats(const Buffer&, std::size_t, Quantity, int) override {}
  void bias_activate(Buffer&, const Buffer&, Buffer*, const ActivationSpec&, int) override {}
  void activation_grad(Buffer&, const Buffer&, const Buffer&, const ActivationSpec&, int) override {}
  void bias_grad(const Buffer&, Buffer&, int) override {}
  void sgd_update(Buffer&, const Buffer&, float, std::size_t) override {}
  void nll_errors(const Buffer&, const Buffer&, int, double*, int64_t*) override {}

 private:
  Backend& b_;
};

double since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

// Every buffer of the workspace zeroed through the real backend (uninitialized memory could hold
// NaNs or subnormals, which slow some GEMM kernels down).
void zero(Backend& b, Workspace& ws) {
  std::vector<Buffer*> all;
  for (auto* v : {&ws.act, &ws.pre, &ws.weight})
    for (auto& p : *v) all.push_back(p.get());
  for (auto* p : {&ws.logits, &ws.targets, &ws.dlogits, &ws.dh[0], &ws.dh[1], &ws.dw})
    if (*p) all.push_back(p->get());
  for (Buffer* x : all) {
    const std::vector<float> z(x->size(), 0.0f);
    b.upload(*x, z.data(), z.size());
  }
}

// One configuration's GEMMs alone, in seconds: its chunks (of the plan's size) handed out to the
// plan's workers in order, each worker on its own thread with its own workspace; best of `repeats`.
double gemm_only_seconds(Backend& backend, const SweepPoint& p, const MemoryPlan& m, int repeats) {
  const Config& c = p.config;
  const int workers = backend.workers() > 1 ? std::max(1, m.workers) : 1;
  std::vector<std::unique_ptr<Backend>> own;  // the CPU's per-thread workers
  std::vector<Backend*> real;
  for (int i = 0; i < workers; ++i) {
    if (backend.workers() > 1) {
      own.push_back(backend.make_worker(i));
      real.push_back(own.back().get());
    } else {
      real.push_back(&backend);
    }
  }
  const int64_t chunks = (c.trials + m.chunk_trials - 1) / m.chunk_trials;
  double best = 1e30;
  std::vector<std::unique_ptr<Workspace>> ws(static_cast<std::size_t>(workers));
  for (int r = 0; r <= repeats; ++r) {  // (r = 0: a warm-up, not timed)
    std::atomic<int64_t> next{0};
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    clk::time_point t0;
    auto work = [&](int i) {
      Backend& b = *real[std::size_t(i)];
      if (workers > 1) b.bind_thread();
      if (!ws[std::size_t(i)]) {
        ws[std::size_t(i)] = std::make_unique<Workspace>(make_workspace(b, workspace_size(c, m.chunk_trials)));
        zero(b, *ws[std::size_t(i)]);
      }
      GemmOnly g(b);
      float sink = 0;
      b.download(*ws[std::size_t(i)]->act[0], &sink, 1);  // (the zeroing done)
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int64_t k; (k = next.fetch_add(1)) < chunks;) {
        const int64_t first = k * m.chunk_trials;
        const int n = int(std::min<int64_t>(m.chunk_trials, c.trials - first));
        run_chunk_ops(g, *ws[std::size_t(i)], c, p.stream, uint64_t(first), n);
      }
      b.download(*ws[std::size_t(i)]->act[0], &sink, 1);  // waits for the GEMMs queued
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < workers; ++i) threads.emplace_back(work, i);
    std::thread starter([&] {
      while (ready.load() < workers) std::this_thread::yield();
      t0 = clk::now();
      go.store(true);
    });
    work(0);
    for (auto& t : threads) t.join();
    starter.join();
    if (r > 0) best = std::min(best, since(t0));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, device = "cpu";
  int repeats = 2;
  Overrides ov;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--device" && has_value) {
      device = argv[++i];
    } else if (a == "--repeats" && has_value) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--set" && has_value) {
      ov.sets.push_back(argv[++i]);
    } else if (config.empty() && a.rfind("--", 0) != 0) {
      config = a;
    } else {
      std::fprintf(stderr, "usage: initscope_bench_sweep CONFIG [--device D] [--repeats R] [--set key=value]...\n");
      return 2;
    }
  }
  if (config.empty()) {
    std::fprintf(stderr, "usage: initscope_bench_sweep CONFIG [--device D] [--repeats R] [--set key=value]...\n");
    return 2;
  }
  try {
    const Experiment ex = load_experiment(config, ov);
    for (const auto& p : ex.points)
      if (p.config.train.on())
        throw std::runtime_error(config + ": a training sweep (this benchmark measures networks at initialization)");
    BackendOptions bo;
    bo.threads = ex.points.front().config.run.threads;
    bo.tf32 = ex.points.front().config.run.tf32;
    auto backend = make_backend(device, bo);
    const std::size_t held = held_bytes(ex);
    RunOptions opt;
    for (const auto& p : ex.points) opt.plans.push_back(plan_memory(p.config, *backend, held));

    // The engine: the whole sweep, best of `repeats`, after a warm-up of its first configuration.
    std::vector<double> engine_config(ex.points.size(), 1e30);
    std::size_t unit = 0;
    opt.unit_done = [&](ConfigResult&& r) {
      engine_config[unit] = std::min(engine_config[unit], r.seconds);
      ++unit;
    };
    {
      Experiment first = ex;
      first.points.resize(1);
      RunOptions o1 = opt;
      o1.plans.resize(1);
      o1.unit_done = [](ConfigResult&&) {};
      run_experiment(first, *backend, o1);
    }
    double t_engine = 1e30;
    for (int r = 0; r < repeats; ++r) {
      unit = 0;
      const auto t0 = clk::now();
      run_experiment(ex, *backend, opt);
      t_engine = std::min(t_engine, since(t0));
    }

    // The GEMMs alone, configuration by configuration.
    std::printf("initscope sweep benchmark: %s, %zu configurations on %s (%s), best of %d\n", config.c_str(),
                ex.points.size(), backend->name().c_str(), backend->description().c_str(), repeats);
    std::printf("%-12s  %-44s %8s %8s %8s %11s %11s %8s\n", "config", "swept", "trials", "chunk", "workers", "engine s",
                "GEMMs s", "ratio");
    double t_gemm = 0, t_engine_sum = 0, flops = 0;
    for (std::size_t k = 0; k < ex.points.size(); ++k) {
      const SweepPoint& p = ex.points[k];
      const MemoryPlan& m = opt.plans[k];
      const double g = gemm_only_seconds(*backend, p, m, repeats);
      t_gemm += g;
      t_engine_sum += engine_config[k];
      flops += flops_per_trial(p.config) * double(p.config.trials);
      std::string what;
      for (const auto& kv : p.swept) what += (what.empty() ? "" : " ") + kv.first + "=" + kv.second;
      if (what.size() > 44) what = what.substr(0, 41) + "...";
      std::printf("%-12s  %-44s %8lld %8d %8d %11.4f %11.4f %8.2f\n", p.id.c_str(), what.c_str(),
                  static_cast<long long>(p.config.trials), m.chunk_trials, backend->workers() > 1 ? m.workers : 1,
                  engine_config[k], g, engine_config[k] / g);
    }
    std::printf("engine, the whole sweep (run_experiment)   %9.3f s   %8.2f TFLOP/s of GEMMs\n", t_engine,
                flops / t_engine * 1e-12);
    std::printf("engine, its configurations' times summed   %9.3f s\n", t_engine_sum);
    std::printf("GEMMs alone, summed over configurations     %9.3f s   %8.2f TFLOP/s\n", t_gemm,
                flops / t_gemm * 1e-12);
    std::printf("engine time / GEMM-only time = %.3f (whole sweep), %.3f (configurations summed)\n", t_engine / t_gemm,
                t_engine_sum / t_gemm);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope_bench_sweep: %s\n", e.what());
    return 1;
  }
}
