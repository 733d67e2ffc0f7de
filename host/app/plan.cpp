// plan.cpp — the run plan and the GEMM-rate calibration behind its time estimate.
#include "host/app/plan.h"

#include "host/app/output.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "host/app/progress.h"
#include "host/app/runner.h"

namespace isc {

double measure_gemm_rate(Backend& backend) {
  // Layers like the paper's (256 samples, 1024 -> 1024), on one worker as the run drives it (a CPU
  // thread with its own single-threaded BLAS; a GPU with 64 trials per call), repeated for 0.2 s;
  // the rate times the number of workers.
  std::unique_ptr<Backend> worker = backend.workers() > 1 ? backend.make_worker(0) : nullptr;
  Backend& b = worker ? *worker : backend;
  const int B = 256, n = 1024, T = b.preferred_chunk_trials() >= 64 ? 64 : 1;
  Chunk c;
  c.trials = T;
  c.samples = B;
  c.layers = 1;
  auto h = b.alloc(std::size_t(T) * B * n), w = b.alloc(std::size_t(T) * n * n), s = b.alloc(std::size_t(T) * B * n);
  b.begin_chunk(c);
  b.fill_input(*h, DataKind::Gaussian, n);
  b.init_weights(*w, LayerDraw{DrawKind::Normal, 0.03f}, 0, n, n);
  float sink = 0;
  b.gemm_forward(*h, *w, *s, n, n);  // warm-up (plans, caches)
  b.download(*s, &sink, 1);
  const auto t0 = std::chrono::steady_clock::now();
  int reps = 0;
  double seconds = 0;
  do {
    b.gemm_forward(*h, *w, *s, n, n);
    b.download(*s, &sink, 1);  // waits for the GEMM
    ++reps;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (seconds < 0.2);
  b.end_chunk();
  return 2.0 * T * B * double(n) * n * reps / seconds * std::max(backend.workers(), 1);
}

std::string plan_text(const Experiment& ex, const Backend& b, double rate) {
  std::string out;
  char line[512];
  double total_flops = 0, total_trials = 0;
  std::snprintf(line, sizeof line, "%-12s  %-40s %10s %12s %12s %8s %8s %10s\n", "config", "swept", "trials",
                "GFLOP/trial", "MiB/trial", "chunk", "workers", "est. time");
  out += line;
  const std::size_t held = held_bytes(ex);
  for (const auto& p : ex.points) {
    const Config& c = p.config;
    const MemoryPlan m = plan_memory(c, b, held);
    const double f = flops_per_trial(c), flops = f * double(c.trials);
    total_flops += flops;
    total_trials += double(c.trials);
    std::string what;
    for (const auto& kv : p.swept) what += (what.empty() ? "" : " ") + kv.first + "=" + kv.second;
    if (what.size() > 40) what = what.substr(0, 37) + "...";
    std::snprintf(line, sizeof line, "%-12s  %-40s %10lld %12.4g %12.4g %8d %8d %10s\n", p.id.c_str(), what.c_str(),
                  static_cast<long long>(c.trials), f / 1e9, double(m.per_trial_bytes) / double(1 << 20),
                  m.chunk_trials, m.workers, rate > 0 ? format_duration(flops / rate).c_str() : "-");
    out += line;
  }
  std::snprintf(line, sizeof line, "%zu configuration%s, %.0f trials, %.4g TFLOP of GEMMs", ex.points.size(),
                ex.points.size() == 1 ? "" : "s", total_trials, total_flops / 1e12);
  out += line;
  if (rate > 0) {
    std::snprintf(line, sizeof line,
                  "; on %s at the measured %.3g GFLOP/s of GEMMs: about %s of GEMMs (statistics, and Jacobian SVDs "
                  "when asked, add to it; "
                  "see docs/benchmarks.md)",
                  b.name().c_str(), rate / 1e9, format_duration(total_flops / rate).c_str());
    out += line;
  }
  const bool per_trial = !ex.points.empty() && ex.points.front().config.output.per_trial;
  std::snprintf(line, sizeof line,
                "\nthe expanded sweep: about %.3g MiB held for the whole run (in each configuration's memory plan)"
                "\nresults folder: about %.3g MB%s\n",
                double(held) / double(1 << 20), double(estimated_output_bytes(ex, per_trial)) / 1e6,
                per_trial ? " (with trials.csv.gz)" : "");
  return out + line;
}

}  // namespace isc
