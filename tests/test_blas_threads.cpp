// test_blas_threads.cpp — OpenBLAS's own threads: ended at start (stop_blas_threads), and not
// started again by the CPU backend or its GEMMs.
#include <cblas.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "host/cpu/cpu_backend.h"

namespace {

int process_threads() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(BlasThreads, EndedAtStartAndNotStartedAgain) {
  // OpenBLAS started openblas_get_num_threads() - 1 threads as it loaded (none when the
  // environment says OPENBLAS_NUM_THREADS=1, or on one core); this test process has no others yet.
  const int blas_before = openblas_get_num_threads();
  const int before = process_threads();
  ASSERT_TRUE(isc::stop_blas_threads()) << "this OpenBLAS has no blas_thread_shutdown_";
  const int after = process_threads();
  EXPECT_EQ(after, before - (blas_before - 1)) << "OpenBLAS had " << blas_before << " threads";
  EXPECT_EQ(openblas_get_num_threads(), 1);
  // The CPU backend sets OpenBLAS single-threaded too: OpenBLAS 0.3.21 started a spinning thread
  // again when asked for 1 thread after its shutdown (seen in a profile of a sweep: 56 ms of CPU).
  auto backend = isc::make_cpu_backend(isc::BackendOptions{1, false});
  ASSERT_TRUE(backend);
  const int n = 256;
  std::vector<float> a(n * n, 1.0f), b(n * n, 0.5f), c(n * n, 0.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  EXPECT_EQ(c[0], 0.5f * n);
  EXPECT_EQ(process_threads(), after);
}

}  // namespace
