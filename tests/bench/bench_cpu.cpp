// bench_cpu.cpp — times the Figure 6 job on the CPU backend beside OpenBLAS sgemm alone on the
// same shapes with the same threading, and prints trials/s and the ratio. Never asserts times.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"
#include "host/cpu/host_memory.h"

using namespace isc;
using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 32;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 256;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  const bool backward = argc > 4 && std::string(argv[4]) == "backward";
  Overrides ov;
  ov.trials = trials;
  ov.sets = {"samples=" + std::to_string(samples)};
  if (backward)
    ov.sets.push_back("stats.quantities=[\"preactivation\",\"activation\",\"backprop_gradient\",\"weight_gradient\"]");
  const Experiment ex = parse_experiment(
      "[network]\ninput = 1024\nhidden = [1000, 1000, 1000, 1000, 1000]\nactivation = \"tanh\"\n"
      "init = \"standard\"\n",
      "fig6-bench", ov);
  const Config& c = ex.points[0].config;
  auto backend = make_backend("cpu", {});
  const int threads = omp_get_num_procs();
  const MemoryPlan plan = plan_memory(c, *backend);

  // GEMMs alone, arranged as fast as they go: each thread takes whole trials (all layers, no
  // barrier between layers) with its own buffers, filled once, in the memory the engine's own
  // buffers get (HostArray: transparent huge pages for large ones); single-threaded OpenBLAS calls.
  const std::size_t B = samples;
  struct Bufs {
    std::unique_ptr<HostArray> h, w, s, g, dw;
  };
  auto filled = [](std::size_t n, float v) {
    auto a = std::make_unique<HostArray>(n);
    std::fill(a->data(), a->data() + n, v);
    return a;
  };
  std::vector<Bufs> bufs(static_cast<std::size_t>(threads));
  for (auto& b : bufs) {
    b.h = filled(B * 1024, 0.01f);
    b.w = filled(1024 * 1000, 0.01f);
    b.s = filled(B * 1024, 0.0f);
    b.g = filled(backward ? B * 1024 : 1, 0.01f);
    b.dw = filled(backward ? 1024 * 1000 : 1, 0.0f);
  }
  auto gemm_only = [&] {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int t = 0; t < trials; ++t) {
      Bufs& b = bufs[static_cast<std::size_t>(omp_get_thread_num())];
      int n_in = 1024;
      for (int l = 0; l < 5; ++l) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(B), 1000, n_in, 1.0f, b.h->data(), n_in, b.w->data(),
                    n_in, 0.0f, b.s->data(), 1000);
        if (backward) {
          // weight gradient (1000 x n_in) and, above the first layer, the gradient to the layer below
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 1000, n_in, int(B), 1.0f, b.g->data(), 1000, b.h->data(),
                      n_in, 0.0f, b.dw->data(), n_in);
          if (l > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(B), n_in, 1000, 1.0f, b.g->data(), 1000,
                        b.w->data(), n_in, 0.0f, b.s->data(), n_in);
        }
        n_in = 1000;
      }
    }
  };
  auto time_once = [&](auto&& f) {
    const auto t0 = clk::now();
    f();
    return std::chrono::duration<double>(clk::now() - t0).count();
  };
  // The two are timed alternately, best of `repeats` each, so that a shared machine's changing
  // speed affects both alike.
  gemm_only();  // warm-up
  double t_gemm = 1e30, t_engine = 1e30;
  for (int r = 0; r < repeats; ++r) {
    t_gemm = std::min(t_gemm, time_once(gemm_only));
    t_engine = std::min(t_engine, time_once([&] { run_experiment(ex, *backend); }));
  }
  const double fwd = 2.0 * B * (1024.0 * 1000 + 4 * 1000.0 * 1000);
  const double flops = double(trials) * (backward ? fwd + fwd + 2.0 * B * 4 * 1000.0 * 1000 : fwd);
  std::printf(
      "initscope CPU benchmark: Figure 6%s job (tanh, 5 x 1000, input 1024), %d trials x %d samples, "
      "%d threads (%d workers, chunks of %d trials), best of %d\n",
      backward ? "-8 forward+backward" : "", trials, samples, threads, plan.workers, plan.chunk_trials, repeats);
  std::printf("  device          %s\n", backend->description().c_str());
  std::printf("  engine          %8.3f s  %8.2f trials/s  %7.1f GFLOP/s (GEMM FLOPs only)\n", t_engine,
              trials / t_engine, flops / t_engine * 1e-9);
  std::printf("  sgemm alone     %8.3f s  %8.2f trials/s  %7.1f GFLOP/s\n", t_gemm, trials / t_gemm,
              flops / t_gemm * 1e-9);
  std::printf("  engine rate / sgemm rate = %.3f   (engine time / sgemm time = %.3f)\n", t_gemm / t_engine,
              t_engine / t_gemm);
  return 0;
}
