// bench_svd.cpp — the layer-Jacobian singular-value solvers side by side (issue 13: measure, then
// choose), on one batch of Jacobian-like matrices: the CPU backend's sgesdd and the FP64 Gram route
// (tests/svd_reference.h: dgemm, dsyevd) on every core at once, one matrix per thread; with CUDA,
// each GPU solver (cuda/svd_solver.h), timed with cudaEvents. Best of `repeats`; each one's largest
// relative error against LAPACK's dgesdd in FP64 on the first matrices. Prints, never asserts.
//   initscope_bench_svd [N=1000] [COUNT=32] [REPEATS=3] [CHECKED=2]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "buildinfo.h"
#include "host/cpu/svd.h"
#include "tests/svd_reference.h"
#if INITSCOPE_WITH_CUDA
#include <cuda_runtime_api.h>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/device_array.h"
#include "cuda/svd.h"
#endif

extern "C" void openblas_set_num_threads(int);

using namespace isc;

namespace {

// The largest |got - ref| / ref over the checked matrices, for ref > floor * sigma_max.
double max_relative_error(const std::vector<float>& got, const std::vector<std::vector<double>>& ref, int n,
                          double floor) {
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    for (int k = 0; k < n; ++k) {
      const double r = ref[i][std::size_t(k)];
      if (r > floor * ref[i][0]) worst = std::max(worst, std::fabs(got[i * n + std::size_t(k)] - r) / r);
    }
  return worst;
}

// Best of `repeats` of one(i) for every i < count, one matrix per thread on every core, in seconds.
double time_on_every_core(int count, int repeats, unsigned threads, const std::function<void(int)>& one) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    std::atomic<int> next{0};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (int i; (i = next.fetch_add(1)) < count;) one(i);
      });
    for (auto& t : pool) t.join();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int count = argc > 2 ? std::atoi(argv[2]) : 32;
  const int repeats = std::max(1, argc > 3 ? std::atoi(argv[3]) : 3);
  const int checked = std::min(count, argc > 4 ? std::atoi(argv[4]) : 2);
  if (n < 1 || count < 1) {
    std::fprintf(stderr, "usage: initscope_bench_svd [N >= 1] [COUNT >= 1] [REPEATS] [CHECKED]\n");
    return 2;
  }
  try {
    openblas_set_num_threads(1);  // one matrix per thread, as the CPU backend runs them
    ActivationSpec act;
    act.kind = Activation::Tanh;
    const std::vector<float> j = svd_test::jacobians(n, n, count, act, 1.0f, 5);
    const std::size_t per = std::size_t(n) * n;
    std::vector<std::vector<double>> ref;
    for (int i = 0; i < checked; ++i) ref.push_back(svd_test::reference_values(j.data() + i * per, n, n));
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::printf(
        "initscope Jacobian singular values: %d tanh Jacobians of %d x %d (W ~ N(0, 1/n), s ~ N(0, 1)), "
        "best of %d; error: largest |sigma - dgesdd| / dgesdd over %d matrices (all values; values above "
        "1e-5 sigma_max); sigma_min / sigma_max %.2e\n",
        count, n, n, repeats, checked, ref.empty() ? 0.0 : ref[0].back() / ref[0][0]);
    auto line = [&](const char* name, double seconds, const std::vector<float>& sv, const std::string& more) {
      std::printf("  %-14s %9.2f ms/matrix  error %.2e (%.2e)  %s\n", name, 1e3 * seconds / count,
                  max_relative_error(sv, ref, n, 0), max_relative_error(sv, ref, n, 1e-5), more.c_str());
    };

    // The CPU: the backend's sgesdd, and the Gram route, one matrix per thread on every core.
    std::vector<float> cpu_sv(std::size_t(count) * n), gram_sv(std::size_t(count) * n);
    const double t_cpu = time_on_every_core(count, std::min(repeats, 2), threads, [&](int i) {
      // singular_values takes row-major: the stored matrix read row-major is its transpose, which
      // has the same singular values.
      std::vector<float> a(j.begin() + std::ptrdiff_t(i * per), j.begin() + std::ptrdiff_t((i + 1) * per));
      singular_values(a.data(), n, n, cpu_sv.data() + std::size_t(i) * n);
    });
    const double t_gram = time_on_every_core(count, std::min(repeats, 2), threads, [&](int i) {
      const std::vector<float> sv = svd_test::gram_route(j.data() + std::size_t(i) * per, n, n);
      std::copy(sv.begin(), sv.end(), gram_sv.begin() + std::ptrdiff_t(std::size_t(i) * n));
    });
    char more[96];
    std::snprintf(more, sizeof more, "[CPU sgesdd, %u threads]", threads);
    line("cpu", t_cpu, cpu_sv, more);
    std::snprintf(more, sizeof more, "%.2fx sgesdd  [CPU dgemm + dsyevd, %u threads]", t_cpu / t_gram, threads);
    line("cpu-gram", t_gram, gram_sv, more);

#if INITSCOPE_WITH_CUDA
    std::string why;
    if (cuda_device_count(&why) == 0) {
      std::printf("  (no GPU solvers: no usable GPU: %s)\n", why.c_str());
      return 0;
    }
    std::printf("  device: %s\n", make_cuda_backend(0, BackendOptions{})->description().c_str());
    cudaStream_t stream;
    ISC_CUDA_CHECK(cudaStreamCreate(&stream));
    cuda::DeviceArray<float> src(j.size()), a(j.size()), sv(std::size_t(count) * n);
    cuda::DeviceArray<int> info(static_cast<std::size_t>(count));
    ISC_CUDA_CHECK(cudaMemcpy(src.get(), j.data(), j.size() * sizeof(float), cudaMemcpyHostToDevice));
    cudaEvent_t e0, e1;
    ISC_CUDA_CHECK(cudaEventCreate(&e0));
    ISC_CUDA_CHECK(cudaEventCreate(&e1));
    double t_gesvd = 0;
    for (cuda::SvdSolver solver : {cuda::SvdSolver::Gesvd, cuda::SvdSolver::GramBatched, cuda::SvdSolver::GramSyevd}) {
      try {
        cuda::SingularValues s(stream, solver);
        double best = 1e30;
        for (int r = 0; r <= repeats; ++r) {  // r = 0: warm-up (workspaces, handles)
          // A fresh copy each time, outside the timed span (the solvers read their input only: gesvd
          // works on a copy of each matrix; kept so that no run depends on an earlier one).
          ISC_CUDA_CHECK(
              cudaMemcpyAsync(a.get(), src.get(), j.size() * sizeof(float), cudaMemcpyDeviceToDevice, stream));
          ISC_CUDA_CHECK(cudaEventRecord(e0, stream));
          s.compute(a.get(), n, n, count, sv.get(), info.get());
          ISC_CUDA_CHECK(cudaEventRecord(e1, stream));
          ISC_CUDA_CHECK(cudaEventSynchronize(e1));
          float ms = 0;
          ISC_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
          if (r > 0) best = std::min(best, double(ms) * 1e-3);
        }
        int value = 0;
        const int bad = s.first_failure(info.get(), count, &value);
        std::vector<float> got(std::size_t(count) * n);
        ISC_CUDA_CHECK(cudaMemcpy(got.data(), sv.get(), got.size() * sizeof(float), cudaMemcpyDeviceToHost));
        if (solver == cuda::SvdSolver::Gesvd) t_gesvd = best;
        std::snprintf(more, sizeof more, "%.2fx gesvd, %.2fx the CPU's sgesdd", t_gesvd / best, t_cpu / best);
        line(to_string(solver), best, got,
             more + (bad >= 0 ? " [devInfo " + std::to_string(value) + " on matrix " + std::to_string(bad) + "]"
                              : std::string()));
      } catch (const std::exception& e) {
        std::printf("  %-14s failed: %s\n", to_string(solver), e.what());
      }
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaStreamDestroy(stream);
#else
    std::printf("  (no GPU solvers: built without CUDA)\n");
#endif
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope_bench_svd: %s\n", e.what());
    return 1;
  }
}
