// bench_svd.cpp — the layer-Jacobian singular-value solvers side by side (issue 13: measure, then
// choose): each CUDA solver (cuda/svd_solver.h) on the same batch of Jacobian-like matrices, timed
// with cudaEvents (best of `repeats`), beside the CPU backend's sgesdd on every core at once; the
// largest relative error of each against LAPACK's dgesdd in FP64 on the first matrices. Prints,
// never asserts.
//   initscope_bench_svd [N=1000] [COUNT=32] [REPEATS=3] [CHECKED=2]
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/device_array.h"
#include "cuda/svd.h"
#include "host/cpu/svd.h"
#include "tests/svd_reference.h"

using namespace isc;
using cuda::SvdSolver;

namespace {

// The largest |got - ref| / ref over the first `checked` matrices, for ref > floor * sigma_max.
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

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int count = argc > 2 ? std::atoi(argv[2]) : 32;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  const int checked = std::min(count, argc > 4 ? std::atoi(argv[4]) : 2);
  try {
    std::string why;
    if (cuda_device_count(&why) == 0) {
      std::fprintf(stderr, "initscope_bench_svd: no usable GPU (%s)\n", why.c_str());
      return 1;
    }
    ActivationSpec act;
    act.kind = Activation::Tanh;
    const std::vector<float> j = svd_test::jacobians(n, n, count, act, 1.0f, 5);
    const std::size_t per = std::size_t(n) * n;
    std::vector<std::vector<double>> ref;
    for (int i = 0; i < checked; ++i) ref.push_back(svd_test::reference_values(j.data() + i * per, n, n));
    std::printf(
        "initscope Jacobian singular values: %d tanh Jacobians of %d x %d (W ~ N(0, 1/n), s ~ N(0, 1)), "
        "best of %d; error: largest |sigma - dgesdd| / dgesdd over %d matrices; sigma_min / sigma_max %.2e\n",
        count, n, n, repeats, checked, ref.empty() ? 0.0 : ref[0].back() / ref[0][0]);
    std::printf("  device: %s\n", make_cuda_backend(0, BackendOptions{})->description().c_str());

    // The CPU backend's way: sgesdd on one matrix per thread, every core busy.
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<float> cpu_sv(std::size_t(count) * n);
    double t_cpu = 1e30;
    for (int r = 0; r < std::max(1, std::min(repeats, 2)); ++r) {
      std::vector<float> work = j;
      std::atomic<int> next{0};
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          for (int i; (i = next.fetch_add(1)) < count;) {
            // singular_values takes row-major; the stored matrix read row-major is its transpose,
            // which has the same singular values.
            std::vector<float> a(work.begin() + i * per, work.begin() + (i + 1) * per);
            singular_values(a.data(), n, n, cpu_sv.data() + std::size_t(i) * n);
          }
        });
      for (auto& t : pool) t.join();
      t_cpu = std::min(t_cpu, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("  %-14s %9.2f ms/matrix  error %.2e (sigma > 1e-5 sigma_max: %.2e)  [CPU sgesdd, %u threads]\n", "cpu",
                1e3 * t_cpu / count, max_relative_error(cpu_sv, ref, n, 0), max_relative_error(cpu_sv, ref, n, 1e-5),
                threads);

    cudaStream_t stream;
    ISC_CUDA_CHECK(cudaStreamCreate(&stream));
    cuda::DeviceArray<float> src(j.size()), a(j.size()), sv(std::size_t(count) * n);
    cuda::DeviceArray<int> info(static_cast<std::size_t>(count));
    ISC_CUDA_CHECK(cudaMemcpy(src.get(), j.data(), j.size() * sizeof(float), cudaMemcpyHostToDevice));
    cudaEvent_t e0, e1;
    ISC_CUDA_CHECK(cudaEventCreate(&e0));
    ISC_CUDA_CHECK(cudaEventCreate(&e1));
    double t_gesvd = 0;
    for (SvdSolver solver : {SvdSolver::Gesvd, SvdSolver::GramBatched, SvdSolver::GramSyevd}) {
      try {
        cuda::SingularValues s(stream, solver);
        double best = 1e30;
        for (int r = 0; r <= repeats; ++r) {  // r = 0: warm-up (workspaces, handles)
          // gesvd overwrites its input: a fresh copy each time, outside the timed span.
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
        if (solver == SvdSolver::Gesvd) t_gesvd = best;
        std::printf(
            "  %-14s %9.2f ms/matrix  error %.2e (sigma > 1e-5 sigma_max: %.2e)  %.2fx gesvd, %.2fx the CPU%s\n",
            to_string(solver), 1e3 * best / count, max_relative_error(got, ref, n, 0),
            max_relative_error(got, ref, n, 1e-5), t_gesvd / best, t_cpu / best,
            bad >= 0 ? (" [devInfo " + std::to_string(value) + " on matrix " + std::to_string(bad) + "]").c_str() : "");
      } catch (const std::exception& e) {
        std::printf("  %-14s failed: %s\n", to_string(solver), e.what());
      }
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaStreamDestroy(stream);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "initscope_bench_svd: %s\n", e.what());
    return 1;
  }
}
