// bench_cpu.cpp — times the Figure 6 job on the CPU backend beside OpenBLAS sgemm alone on the
// same shapes with the same threading, and prints trials/s and the ratio. Never asserts times.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/backend.h"
#include "host/config.h"
#include "host/runner.h"

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
  if (backward) ov.sets.push_back("stats.quantities=[\"preactivation\",\"activation\",\"backprop_gradient\",\"weight_gradient\"]");
  const Experiment ex = parse_experiment(
      "[network]\ninput = 1024\nhidden = [1000, 1000, 1000, 1000, 1000]\nactivation = \"tanh\"\n"
      "init = \"standard\"\n",
      "fig6-bench", ov);
  const Config& c = ex.points[0].config;
  auto backend = make_backend("cpu", {});
  const int threads = omp_get_num_procs();
  (void)c;

  // GEMMs alone: same chunking, same parallel-over-trials, same shapes, buffers filled once.
  const int chunk = plan_memory(c, *backend).chunk_trials;
  const std::size_t B = samples;
  std::vector<float> h(chunk * B * 1024, 0.01f), w(chunk * 1024 * 1000, 0.01f), s(chunk * B * 1000);
  std::vector<float> g(backward ? chunk * B * 1024 : 1, 0.01f), dw(backward ? chunk * 1024 * 1000 : 1);
  auto gemm_only = [&] {
    for (int first = 0; first < trials; first += chunk) {
      const int n = std::min(chunk, trials - first);
      int n_in = 1024;
      for (int l = 0; l < 5; ++l) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int t = 0; t < n; ++t) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(B), 1000, n_in, 1.0f, h.data() + t * B * n_in,
                      n_in, w.data() + std::size_t(t) * 1000 * n_in, n_in, 0.0f, s.data() + t * B * 1000, 1000);
          if (!backward) continue;
          // weight gradient (1000 x n_in) and, above the first layer, the gradient to the layer below
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 1000, n_in, int(B), 1.0f, g.data() + t * B * 1000,
                      1000, h.data() + t * B * n_in, n_in, 0.0f, dw.data() + std::size_t(t) * 1000 * n_in, n_in);
          if (l > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(B), n_in, 1000, 1.0f, g.data() + t * B * 1000,
                        1000, w.data() + std::size_t(t) * 1000 * n_in, n_in, 0.0f, s.data() + t * B * 1000, n_in);
        }
        n_in = 1000;
      }
    }
  };
  auto time = [&](auto&& f) {
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = clk::now();
      f();
      best = std::min(best, std::chrono::duration<double>(clk::now() - t0).count());
    }
    return best;
  };
  gemm_only();  // warm-up
  const double t_gemm = time(gemm_only);
  const double t_engine = time([&] { run_experiment(ex, *backend); });
  const double fwd = 2.0 * B * (1024.0 * 1000 + 4 * 1000.0 * 1000);
  const double flops = double(trials) * (backward ? fwd + fwd + 2.0 * B * 4 * 1000.0 * 1000 : fwd);
  std::printf("initscope CPU benchmark: Figure 6%s job (tanh, 5 x 1000, input 1024), %d trials x %d samples, "
              "%d threads, chunks of %d trials, best of %d\n", backward ? "-8 forward+backward" : "", trials, samples,
              threads, chunk, repeats);
  std::printf("  device          %s\n", backend->description().c_str());
  std::printf("  engine          %8.3f s  %8.2f trials/s  %7.1f GFLOP/s (GEMM FLOPs only)\n", t_engine,
              trials / t_engine, flops / t_engine * 1e-9);
  std::printf("  sgemm alone     %8.3f s  %8.2f trials/s  %7.1f GFLOP/s\n", t_gemm, trials / t_gemm,
              flops / t_gemm * 1e-9);
  std::printf("  engine rate / sgemm rate = %.3f   (engine time / sgemm time = %.3f)\n", t_gemm / t_engine,
              t_engine / t_gemm);
  return 0;
}
