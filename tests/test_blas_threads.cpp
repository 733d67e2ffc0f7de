// test_blas_threads.cpp — OpenBLAS's own threads: ended at start (stop_blas_threads), and not
// started again by the CPU backend or its GEMMs; the loader the engine calls OpenBLAS through.
#include <cblas.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "host/cpu/cpu_backend.h"
#include "host/cpu/openblas.h"

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

namespace {

// host/cpu/openblas.h: the library the engine loads, its calls the ones of the linked OpenBLAS, and
// a library that cannot be loaded an error naming it and the loader's reason.
TEST(OpenBlasLoader, LoadsTheLibraryAndNamesOneItCannotLoad) {
  EXPECT_EQ(isc::openblas::load_error(isc::openblas::library()), "") << isc::openblas::library();
  ASSERT_NO_THROW(isc::openblas::load());
  const int m = 3, n = 4, k = 5;
  std::vector<float> a(m * k), b(k * n), direct(m * n, 0.0f), loaded(m * n, 0.0f);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.25f * float(i) - 1.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.5f - 0.125f * float(i);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, direct.data(),
              n);
  isc::openblas::sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f,
                       loaded.data(), n);
  EXPECT_EQ(loaded, direct);  // the same library, the same kernels: the same bits
  EXPECT_EQ(isc::openblas::get_num_threads(), openblas_get_num_threads());
  const std::string missing = isc::openblas::load_error("/nonexistent/libopenblas.so.0");
  EXPECT_NE(missing.find("cannot load OpenBLAS (/nonexistent/libopenblas.so.0)"), std::string::npos) << missing;
  EXPECT_NE(missing.find("No such file"), std::string::npos) << missing;
  const std::string not_blas = isc::openblas::load_error("libz.so.1");  // loads, but is not OpenBLAS
  EXPECT_NE(not_blas.find("has no cblas_sgemm"), std::string::npos) << not_blas;
}

}  // namespace
