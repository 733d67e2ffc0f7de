// test_gpu_backward_runs.cpp — the CUDA backward diagnostics through the runner (chunking
// invariance, whole runs against the CPU) and cuSOLVER's singular values on known spectra. Every
// test skips, saying why, when the CUDA runtime finds no usable GPU.
#include <gtest/gtest.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <numeric>
#include <random>
#include <vector>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/device_array.h"
#include "cuda/svd.h"
#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/app/runner.h"
#include "host/backend/backend.h"
#include "tests/gpu_test_util.h"

using namespace isc;
using namespace isc::gpu_test;

namespace {

const char* kBackwardToml =
    "trials = 7\nsamples = 21\n[network]\ninput = 30\nhidden = [25, 20]\noutput = 6\n"
    "[stats]\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\", \"weight_gradient\", "
    "\"jacobian_singular_value\"]\njacobian_samples = 2\npercentiles = [2, 50, 98]\n"
    "[sweep]\n\"network.activation\" = [\"tanh\", \"relu\"]\n\"targets.kind\" = [\"random\", \"teacher\"]\n";

}  // namespace

TEST(GpuBackwardRuns, SingularValuesOfKnownSpectra) {
  // Signed permutations of diagonal matrices (singular values: the sorted |d|, exactly known) and
  // Gaussian matrices against LAPACK's sgesdd, several per call (per-matrix offsets), every solver. Backward
  // stability bounds each singular value's error by p(n) u sigma_max (Weyl), a few 1e-6 here:
  // asserted within 1e-5 (known spectra) and 1e-4 (two implementations) of sigma_max.
  REQUIRE_GPU();
  cudaStream_t stream = nullptr;
  ISC_CUDA_CHECK(cudaStreamCreate(&stream));
  {
    std::mt19937 gen(8);
    const int m = 40, n = 25, count = 3;
    std::vector<float> a(std::size_t(m) * n * 2 * count, 0.0f);
    std::vector<std::vector<float>> want(2 * count);
    for (int i = 0; i < count; ++i) {
      std::vector<int> rows(m), cols(n);
      std::iota(rows.begin(), rows.end(), 0);
      std::iota(cols.begin(), cols.end(), 0);
      std::shuffle(rows.begin(), rows.end(), gen);
      std::shuffle(cols.begin(), cols.end(), gen);
      float* A = a.data() + std::size_t(i) * m * n;
      for (int c = 0; c < n; ++c) {
        const float d = (c % 2 ? -1.0f : 1.0f) * std::ldexp(1.0f + c, -(i * 3)) * (c == 7 ? 1e-3f : 1.0f);
        A[std::size_t(cols[c]) * m + rows[c]] = d;
        want[i].push_back(std::fabs(d));
      }
      std::sort(want[i].rbegin(), want[i].rend());
    }
    std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(float(m)));
    for (int i = count; i < 2 * count; ++i) {
      float* A = a.data() + std::size_t(i) * m * n;
      for (std::size_t e = 0; e < std::size_t(m) * n; ++e) A[e] = nd(gen);
      std::vector<float> copy(A, A + std::size_t(m) * n);
      want[i].resize(n);
      ASSERT_EQ(LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'N', m, n, copy.data(), m, want[i].data(), nullptr, 1, nullptr, 1), 0);
    }
    cuda::DeviceArray<float> da(a.size()), dsv(std::size_t(2 * count) * n);
    cuda::DeviceArray<int> info(std::size_t(2 * count));
    // Every solver (the Gram solvers' FP64 error is far below these bounds: tests/svd_reference.h).
    for (cuda::SvdSolver solver : {cuda::SvdSolver::Gesvd, cuda::SvdSolver::GramBatched, cuda::SvdSolver::GramSyevd}) {
      cuda::SingularValues svd(stream, solver);
      ISC_CUDA_CHECK(cudaMemcpy(da.get(), a.data(), a.size() * sizeof(float), cudaMemcpyHostToDevice));
      svd.compute(da.get(), m, n, 2 * count, dsv.get(), info.get());
      int value = 0;
      EXPECT_EQ(svd.first_failure(info.get(), 2 * count, &value), -1) << to_string(solver) << " devInfo " << value;
      std::vector<float> sv(std::size_t(2 * count) * n);
      ISC_CUDA_CHECK(cudaMemcpy(sv.data(), dsv.get(), sv.size() * sizeof(float), cudaMemcpyDeviceToHost));
      for (int i = 0; i < 2 * count; ++i) {
        const double tol = (i < count ? 1e-5 : 1e-4) * want[i][0];
        for (int k = 0; k < n; ++k)
          EXPECT_NEAR(sv[std::size_t(i) * n + k], want[i][std::size_t(k)], tol)
              << to_string(solver) << " matrix " << i << ", value " << k;
      }
      EXPECT_THROW(svd.compute(da.get(), 3, 5, 1, dsv.get(), info.get()), std::logic_error);  // m < n
    }
  }
  ISC_CUDA_CHECK(cudaStreamDestroy(stream));
}

TEST(GpuBackwardRuns, ChunkingDoesNotChangeResults) {
  // Chunks of 1, 3 and 7 trials batch the GEMMs, the statistics and the Jacobians differently;
  // every trial's statistics of every quantity must be the same bits (pinned GEMM algorithms per
  // shape, fixed-order reductions, one gesvd call per Jacobian), with random and teacher targets.
  REQUIRE_GPU();
  auto g = make_cuda_backend(0, {});
  static std::list<Experiment> keep;  // results point into their experiment
  auto run_chunked = [&](int chunk, int64_t trials) {
    Overrides ov;
    ov.trials = trials;
    ov.sets = {"run.chunk_trials=" + std::to_string(chunk)};
    keep.push_back(parse_experiment(kBackwardToml, "backward_chunks.toml", ov));
    return run_experiment(keep.back(), *g, keep_all_trials());
  };
  const auto ref = run_chunked(7, 7);
  ASSERT_EQ(ref.size(), 4u);
  for (int chunk : {1, 3}) {
    const auto r = run_chunked(chunk, 7);
    ASSERT_EQ(r.size(), ref.size());
    for (std::size_t p = 0; p < r.size(); ++p)
      for (int64_t t = 0; t < 7; ++t)
        for (int l = 0; l < ref[p].layers; ++l)
          for (int q = 0; q < kQuantities; ++q)
            expect_identical(r[p].at(t, l, q), ref[p].at(t, l, q),
                             "chunk " + std::to_string(chunk) + ", config " + std::to_string(p) + ", trial " +
                                 std::to_string(t) + ", layer " + std::to_string(l + 1) + ", q " + std::to_string(q));
  }
  const auto r3 = run_chunked(0, 3);
  for (std::size_t p = 0; p < r3.size(); ++p)
    for (int64_t t = 0; t < 3; ++t)
      for (int l = 0; l < ref[p].layers; ++l)
        for (int q = 0; q < kQuantities; ++q) expect_identical(r3[p].at(t, l, q), ref[p].at(t, l, q), "3 trials");
}

TEST(GpuBackwardRuns, WholeRunsAgreeWithCpu) {
  // Through the runner, nothing fed: the forward and backward GEMMs differ by at most 2 gamma_64
  // ~ 8e-6 relative per layer (tests/test_backend_ops.cpp), tanh and its derivative are
  // 1-Lipschitz, Xavier keeps the scale and the softmax gradient is Lipschitz in the logits: over
  // 3 hidden layers, the output layer and 3 backward steps the differences stay well below 1e-4 of
  // the signal, and the Jacobians' singular values move by about as much (Weyl); asserted to 1e-3
  // of each quantity's per-trial standard deviation (10x margin). Random targets are bit-identical.
  REQUIRE_GPU();
  const auto ex = parse_experiment(
      "trials = 4\nsamples = 32\n[network]\ninput = 64\nhidden = [64, 64, 64]\noutput = 10\nactivation = \"tanh\"\n"
      "init = \"xavier_uniform\"\n[stats]\nquantities = [\"preactivation\", \"activation\", \"backprop_gradient\", "
      "\"weight_gradient\", \"jacobian\"]\njacobian_samples = 3\n",
      "whole_backward.toml");
  auto g = make_cuda_backend(0, {});
  auto c = make_backend("cpu", {});
  const auto rg = run_experiment(ex, *g, keep_all_trials()), rc = run_experiment(ex, *c, keep_all_trials());
  for (int64_t t = 0; t < 4; ++t)
    for (int l = 0; l < 3; ++l)
      for (int q = 2; q < kQuantities; ++q) {
        const TrialStats &G = rg[0].at(t, l, q), &C = rc[0].at(t, l, q);
        const std::string where =
            "trial " + std::to_string(t) + ", layer " + std::to_string(l + 1) + ", q " + std::to_string(q);
        ASSERT_FALSE(C.hist.empty()) << where;
        EXPECT_EQ(G.count, C.count) << where;
        EXPECT_EQ(G.nan + G.inf, 0u) << where;
        const double tol = 1e-3 * C.std();
        EXPECT_NEAR(G.m.mean, C.m.mean, tol) << where;
        EXPECT_NEAR(G.std(), C.std(), tol) << where;
        EXPECT_NEAR(G.m.min, C.m.min, tol) << where;
        EXPECT_NEAR(G.m.max, C.m.max, tol) << where;
        ASSERT_EQ(G.percentiles.size(), C.percentiles.size()) << where;
        for (std::size_t i = 0; i < G.percentiles.size(); ++i)
          EXPECT_NEAR(G.percentiles[i], C.percentiles[i], tol) << where;
        uint64_t sg = 0, sc = 0;
        for (auto v : G.hist) sg += v;
        for (auto v : C.hist) sc += v;
        EXPECT_EQ(sg, sc) << where;
      }
}
