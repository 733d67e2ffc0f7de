// bench_gpu.cpp — times the Figure 6 job on the CUDA backend beside the same batched cuBLAS GEMM
// calls alone (same shapes, same chunks), with cudaEvents; prints trials/s, achieved GEMM TFLOP/s
// and the ratio of engine time to GEMM-only time. Never asserts times.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/device_array.h"
#include "cuda/gemm.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"

using namespace isc;

namespace {

// Best of `repeats` of f(), in seconds, between two events on the legacy default stream (which
// waits for, and is waited on by, the backend's blocking stream).
template <class F>
double time_best(int repeats, F&& f) {
  cudaEvent_t a, b;
  ISC_CUDA_CHECK(cudaEventCreate(&a));
  ISC_CUDA_CHECK(cudaEventCreate(&b));
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    ISC_CUDA_CHECK(cudaEventRecord(a, 0));
    f();
    ISC_CUDA_CHECK(cudaEventRecord(b, 0));
    ISC_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    ISC_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    best = std::min(best, ms * 1e-3);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 2048;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 256;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  // Flags after the numbers: "tf32" (opt-in TF32 GEMMs, both sides), "backward" (the Figures 6-8
  // job: plus back-propagated and weight gradients and their statistics).
  bool tf32 = false, backward = false;
  for (int i = 4; i < argc; ++i) {
    tf32 |= std::string(argv[i]) == "tf32";
    backward |= std::string(argv[i]) == "backward";
  }
  try {
    std::string why;
    if (cuda_device_count(&why) == 0) {
      std::fprintf(stderr, "initscope_bench_gpu: no usable GPU (%s)\n", why.c_str());
      return 1;
    }
    Overrides ov;
    ov.trials = trials;
    ov.sets = {"samples=" + std::to_string(samples)};
    if (backward)
      ov.sets.push_back(
          "stats.quantities=[\"preactivation\",\"activation\",\"backprop_gradient\",\"weight_gradient\"]");
    const Experiment ex = parse_experiment(
        "[network]\ninput = 1024\nhidden = [1000, 1000, 1000, 1000, 1000]\nactivation = \"tanh\"\n"
        "init = \"standard\"\n",
        "fig6-bench", ov);
    const Config& c = ex.points[0].config;
    BackendOptions bo;
    bo.tf32 = tf32;
    auto backend = make_cuda_backend(0, bo);
    const int chunk = plan_memory(c, *backend).chunk_trials;
    const std::size_t B = std::size_t(samples);

    // The engine: the whole job through the runner (draws, GEMMs, statistics, copies back).
    run_experiment(ex, *backend);  // warm-up (cuBLAS plans, allocations)
    const double t_engine = time_best(repeats, [&] { run_experiment(ex, *backend); });

    // GEMMs alone: the same batched calls on the same shapes and chunks (values do not matter).
    double t_gemm = 0, t_classic = 0;
    std::string path_first, path_rest;
    {
      cudaStream_t stream;
      ISC_CUDA_CHECK(cudaStreamCreate(&stream));
      cuda::DeviceArray<float> h(std::size_t(chunk) * B * 1024), w(std::size_t(chunk) * 1024 * 1000),
          s(std::size_t(chunk) * B * 1000);
      ISC_CUDA_CHECK(cudaMemset(h.get(), 0, h.capacity() * sizeof(float)));
      ISC_CUDA_CHECK(cudaMemset(w.get(), 0, w.capacity() * sizeof(float)));
      cuda::DeviceArray<float> g(backward ? std::size_t(chunk) * B * 1024 : 1),
          dw(backward ? std::size_t(chunk) * 1024 * 1000 : 1);
      if (backward) ISC_CUDA_CHECK(cudaMemset(g.get(), 0, g.capacity() * sizeof(float)));
      cuda::BatchedGemm gemm(stream, tf32);
      auto gemm_only = [&](bool classic) {
        for (int first = 0; first < trials; first += chunk) {
          const int n = std::min(chunk, trials - first);
          for (int l = 0, n_in = 1024; l < 5; ++l, n_in = 1000) {
            if (classic)
              gemm.forward_classic(h.get(), w.get(), s.get(), samples, n_in, 1000, n);
            else
              gemm.forward(h.get(), w.get(), s.get(), samples, n_in, 1000, n);
            if (!backward || classic) continue;
            // The hidden layers' backward GEMMs (the 9-class output layer's are negligible).
            gemm.weight_grad(g.get(), h.get(), dw.get(), samples, 1000, n_in, n);
            if (l > 0) gemm.backward_data(g.get(), w.get(), s.get(), samples, 1000, n_in, n);
          }
        }
      };
      gemm_only(false);
      gemm_only(true);
      ISC_CUDA_CHECK(cudaStreamSynchronize(stream));
      t_gemm = time_best(repeats, [&] { gemm_only(false); });
      t_classic = time_best(repeats, [&] { gemm_only(true); });
      path_first = gemm.path(samples, 1024, 1000);
      path_rest = gemm.path(samples, 1000, 1000);
      ISC_CUDA_CHECK(cudaStreamSynchronize(stream));
      cudaStreamDestroy(stream);
    }

    const double fwd = 2.0 * double(B) * (1024.0 * 1000 + 4 * 1000.0 * 1000);
    const double flops = double(trials) * (backward ? 2 * fwd + 2.0 * double(B) * 4 * 1000.0 * 1000 : fwd);
    std::printf(
        "initscope CUDA benchmark: Figure 6%s job (tanh, 5 x 1000, input 1024), %d trials x %d samples, "
        "chunks of %d trials, best of %d, %s\n",
        backward ? "-8 forward+backward" : "", trials, samples, chunk, repeats, tf32 ? "TF32" : "FP32");
    std::printf("  device             %s\n", backend->description().c_str());
    std::printf("  GEMM, layer 1      %s\n", path_first.c_str());
    std::printf("  GEMM, layers 2-5   %s\n", path_rest.c_str());
    std::printf("  engine             %8.3f s  %9.1f trials/s  %6.2f TFLOP/s (GEMM FLOPs only)\n", t_engine,
                trials / t_engine, flops / t_engine * 1e-12);
    std::printf("  GEMMs alone        %8.3f s  %9.1f trials/s  %6.2f TFLOP/s\n", t_gemm, trials / t_gemm,
                flops / t_gemm * 1e-12);
    if (!backward)
      std::printf("  sgemmStridedBatched%8.3f s  %9.1f trials/s  %6.2f TFLOP/s (reference)\n", t_classic,
                  trials / t_classic, flops / t_classic * 1e-12);
    std::printf("  engine time / GEMM-only time = %.3f\n", t_engine / t_gemm);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope_bench_gpu: %s\n", e.what());
    return 1;
  }
}
