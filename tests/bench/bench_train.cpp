// bench_train.cpp — SGD updates per second of T networks trained side by side on the CPU backend
// (train_step.h: one batched step of all T), beside the same step's GEMMs alone (OpenBLAS, same
// shapes and threading), for T = 1, 16 and 64; prints rates and ratios, never asserts times.
//
//   initscope_bench_train [HIDDEN_WIDTH [DEPTH [STEPS [DEVICE]]]]   (default 1000 5 20 cpu: the paper's
//   networks, 1024 inputs, 9 classes, minibatch 10; DEVICE as --device, e.g. cuda:0: the engine's rate
//   only, the GEMM-only column is the CPU's)
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/app/backends.h"
#include "host/app/train/train_step.h"

using namespace isc;
using clk = std::chrono::steady_clock;

int run(int argc, char** argv) {
  const int width = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int depth = argc > 2 ? std::atoi(argv[2]) : 5;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 20;
  const std::string device = argc > 4 ? argv[4] : "cpu";
  const bool cpu = device == "cpu";
  const int B = 10;
  MlpShape s;
  s.input = 1024;
  s.hidden.assign(std::size_t(depth), width);
  s.classes = 9;
  s.act.kind = Activation::Tanh;
  const int threads = omp_get_num_procs();
  std::printf("networks 1024-%dx%d-9 tanh, minibatch %d, %d steps per measurement, %s, %d threads\n", width, depth, B,
              steps, device.c_str(), threads);
  std::printf("%6s %16s %16s %12s %10s\n", "T", "updates/s (all)", "per network", "GEMMs alone", "ratio");
  for (int T : {1, 16, 64}) {
    auto be = make_backend(device, BackendOptions{threads, false});
    TrainState st = make_train_state(*be, s, T, B);
    Chunk ch;
    ch.trials = T;
    ch.samples = B;
    ch.layers = depth;
    for (bool& e : ch.stats.enabled) e = false;
    be->begin_chunk(ch);
    InitSpec init;
    init.scheme = InitScheme::XavierUniform;
    upload_params(*be, st, init_params(s, init, 1, 0, T));
    MlpBatch batch;
    batch.samples = B;
    batch.x.assign(std::size_t(T) * B * 1024, 0.3f);
    for (int k = 0; k < T * B; ++k) batch.y.push_back(k % 9);
    upload_batch(*be, st, batch);
    std::vector<double> nll(std::size_t(T), 0.0);
    std::vector<int64_t> errors(std::size_t(T), 0);
    train_step(*be, st, 0.01f);                    // warm-up
    evaluate(*be, st, nll.data(), errors.data());  // waits for the device
    const auto t0 = clk::now();
    for (int k = 0; k < steps; ++k) train_step(*be, st, 0.01f);
    evaluate(*be, st, nll.data(), errors.data());  // one forward pass more: waits for the steps
    const double engine = std::chrono::duration<double>(clk::now() - t0).count();
    be->end_chunk();
    const double rate = steps * double(T) / engine;
    if (!cpu) {
      std::printf("%6d %16.1f %16.2f %12s %10s\n", T, rate, rate / T, "-", "-");
      continue;
    }
    // The step's GEMMs alone: per layer forward, weight gradient and (below the top) data gradient,
    // each trial's on its own thread, single-threaded OpenBLAS calls, buffers filled once.
    const std::size_t m = std::size_t(std::max(1024, width));
    struct Bufs {
      std::vector<float> x, W, s, dw, dh;
    };
    std::vector<Bufs> bufs(static_cast<std::size_t>(threads));
    for (auto& u : bufs) {
      u.x.assign(std::size_t(B) * m, 0.01f);
      u.W.assign(m * m, 0.01f);
      u.s.assign(std::size_t(B) * m, 0.0f);
      u.dw.assign(m * m, 0.0f);
      u.dh.assign(std::size_t(B) * m, 0.0f);
    }
    const auto g0 = clk::now();
    for (int k = 0; k < steps; ++k) {
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int t = 0; t < T; ++t) {
        Bufs& u = bufs[static_cast<std::size_t>(omp_get_thread_num())];
        for (int l = 0; l < s.layers(); ++l) {
          const int n_in = s.in(l), n_out = s.out(l);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0f, u.x.data(), n_in, u.W.data(), n_in,
                      0.0f, u.s.data(), n_out);
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0f, u.s.data(), n_out, u.x.data(),
                      n_in, 0.0f, u.dw.data(), n_in);
          if (l > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0f, u.s.data(), n_out, u.W.data(),
                        n_in, 0.0f, u.dh.data(), n_in);
        }
      }
    }
    const double gemm = std::chrono::duration<double>(clk::now() - g0).count();
    std::printf("%6d %16.1f %16.2f %12.1f %10.2f\n", T, rate, rate / T, steps * double(T) / gemm, engine / gemm);
  }
  std::printf(
      "(updates/s (all): network-updates per second, T networks x steps / time; ratio: engine time / "
      "GEMM-only time)\n");
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope_bench_train: %s\n", e.what());
    return 1;
  }
}
