// test_cuda_host.cpp — the host-side parts of the CUDA build, which run without a GPU: error
// messages of the check macros, device selection, the draw kernel's per-thread work (cuRAND's
// generator compiled for the host), radix selection steps, result assembly, the backward kernels'
// per-element work and the cuBLAS/cuSOLVER operand layouts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

// First, in a block of its own: it includes curand_kernel.h for the host.
#include "cuda/draw_block.cuh"

#include <lapacke.h>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/gemm_shapes.h"
#include "cuda/svd_solver.h"
#include "host/app/backends.h"
#include "host/app/config.h"
#include "host/backend/backend.h"
#include "host/backend/chunk_stats.h"
#include "host/cpu/cpu_stats.h"
#include "host/cpu/draws.h"
#include "host/cpu/svd.h"
#include "kernels/inputs.h"
#include "kernels/jacobian.h"
#include "kernels/radix_select.cuh"
#include "kernels/rng.h"
#include "kernels/targets.h"

using namespace isc;

TEST(CudaCheck, MessageNamesCallFileLineAndReason) {
  try {
    cuda::check(cudaErrorMemoryAllocation, "cudaMalloc(&p, bytes)", "/src/initscope/cuda/buffer.cu", 42);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cudaMalloc(&p, bytes) failed at cuda/buffer.cu:42: out of memory");
  }
  try {
    ISC_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cudaErrorInvalidValue failed at tests/test_cuda_host.cpp:", 0), 0u)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(": invalid argument"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(ISC_CUDA_CHECK(cudaSuccess));
  try {
    cuda::check(CUBLAS_STATUS_NOT_INITIALIZED, "cublasCreate(&h)", "gemm.cpp", 7);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), std::string("cublasCreate(&h) failed at gemm.cpp:7: ") +
                                         cublasGetStatusString(CUBLAS_STATUS_NOT_INITIALIZED));
  }
  try {
    ISC_CURAND_CHECK(CURAND_STATUS_LAUNCH_FAILURE);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(": kernel launch failure"), std::string::npos) << e.what();
  }
  try {
    ISC_CUSOLVER_CHECK(CUSOLVER_STATUS_INVALID_VALUE);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("CUSOLVER_STATUS_INVALID_VALUE failed at tests/test_cuda_host.cpp:", 0), 0u)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(": invalid value"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(ISC_CUSOLVER_CHECK(CUSOLVER_STATUS_SUCCESS));
  EXPECT_STREQ(cuda::cusolver_status_text(cusolverStatus_t(999)), "unknown cuSOLVER status");
}

TEST(CudaDraws, CuRandBlocksGiveTheCpuDraws) {
  // draw_block (cuda/draw_block.cuh) is what each thread of the draw kernel runs: curand_init at
  // offset 4*block, curand4, the shared transforms. On the host it must give the CPU's draws.
  for (const LayerDraw d :
       {LayerDraw{DrawKind::Constant, 0.3f}, LayerDraw{DrawKind::Uniform, 0.7f}, LayerDraw{DrawKind::Normal, 1.3f}})
    for (uint64_t seed : {uint64_t(1), uint64_t(0x0123456789abcdefull), ~uint64_t(0)})
      for (uint64_t sub :
           {input_subsequence(0), weight_subsequence(12345, 3), bias_subsequence(7, 999), teacher_subsequence()}) {
        const std::size_t n = 1001;  // not a multiple of 4
        std::vector<float> ref(n);
        cpu_fill_draws(d, seed, sub, ref.data(), n);
        for (uint64_t b = 0; 4 * b < n; ++b) {
          float v[4];
          cuda::draw_block(d, seed, sub, b, v);
          for (std::size_t i = 0; i < 4 && 4 * b + i < n; ++i)
            ASSERT_EQ(std::memcmp(&v[i], &ref[4 * b + i], sizeof(float)), 0)
                << "kind " << int(d.kind) << ", seed " << seed << ", subsequence " << sub << ", element " << 4 * b + i;
        }
      }
  // Counters past 2^32 blocks: the carry into the counter's high word.
  const uint64_t far = (uint64_t(1) << 32) - 2;
  for (uint64_t b = far; b < far + 4; ++b) {
    float v[4], w[4];
    cuda::draw_block(LayerDraw{DrawKind::Uniform, 1.0f}, 5, 9, b, v);
    draw4(LayerDraw{DrawKind::Uniform, 1.0f}, 5, 9, b, w);
    EXPECT_EQ(std::memcmp(v, w, sizeof v), 0) << "block " << b;
  }
}

TEST(CudaDevices, SelectionSaysWhyWithoutAGpu) {
  std::string why;
  const int n = cuda_device_count(&why);
  EXPECT_THROW(make_backend("cuda:x", {}), std::runtime_error);
  EXPECT_THROW(make_backend("cuda:", {}), std::runtime_error);
  const auto lines = describe_devices();
  ASSERT_GE(lines.size(), 2u);
  if (n == 0) {
    EXPECT_EQ(make_backend("auto", {})->name(), "cpu");
    try {
      make_backend("cuda", {});
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--device cuda: no usable GPU (cudaGetDeviceCount: ", 0), 0u) << e.what();
    }
    EXPECT_EQ(lines[1].rfind("no usable GPU: cudaGetDeviceCount: ", 0), 0u) << lines[1];
  } else {
    EXPECT_EQ(make_backend("auto", {})->name(), "cuda:0");
    EXPECT_EQ(make_backend("cuda:0", {})->name(), "cuda:0");
    try {
      make_backend("cuda:" + std::to_string(n), {});
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("no such GPU"), std::string::npos) << e.what();
    }
    EXPECT_EQ(lines[1].rfind("cuda:0: ", 0), 0u) << lines[1];
  }
}

namespace {
// C_b = op(A_b) op(B_b) exactly as cuBLAS defines it for a GemmShape (column-major), in double.
std::vector<double> eval_shape(const cuda::GemmShape& sh, const std::vector<double>& A, const std::vector<double>& B,
                               int batch) {
  std::vector<double> C(std::size_t(sh.stride_c) * batch, std::nan(""));
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < sh.m; ++i)
      for (int j = 0; j < sh.n; ++j) {
        double acc = 0;
        for (int p = 0; p < sh.k; ++p) {
          const double a = sh.trans_a ? A.at(std::size_t(b * sh.stride_a + p + int64_t(i) * sh.lda))
                                      : A.at(std::size_t(b * sh.stride_a + i + int64_t(p) * sh.lda));
          const double v = sh.trans_b ? B.at(std::size_t(b * sh.stride_b + j + int64_t(p) * sh.ldb))
                                      : B.at(std::size_t(b * sh.stride_b + p + int64_t(j) * sh.ldb));
          acc += a * v;
        }
        C.at(std::size_t(b * sh.stride_c + i + int64_t(j) * sh.ldc)) = acc;
      }
  return C;
}
std::vector<double> small_ints(std::size_t n, std::mt19937& gen) {
  std::uniform_int_distribution<int> d(-4, 4);
  std::vector<double> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}
void expect_valid(const cuda::GemmShape& sh) {
  EXPECT_GE(sh.lda, std::max(1, sh.a_rows()));
  EXPECT_GE(sh.ldb, std::max(1, sh.b_rows()));
  EXPECT_EQ(sh.ldc, sh.m);  // C is written densely: ldc = m, stride m * n
  EXPECT_EQ(sh.stride_c, int64_t(sh.m) * sh.n);
}
}  // namespace

TEST(CudaGemmShapes, ColumnMajorTermsComputeTheRowMajorProducts) {
  // Every batched GEMM of the CUDA backend, evaluated with cuBLAS's column-major semantics on
  // small integers (exact in double), against the row-major definition of the product.
  std::mt19937 gen(4);
  const int T = 3, B = 5, n_in = 4, n_out = 6;
  const auto h = small_ints(std::size_t(T) * B * n_in, gen), W = small_ints(std::size_t(T) * n_out * n_in, gen);
  const auto g = small_ints(std::size_t(T) * B * n_out, gen);
  auto at = [](const std::vector<double>& v, int t, int rows, int cols, int r, int c) {
    return v[(std::size_t(t) * rows + r) * cols + c];
  };
  {  // forward: s[t] = h[t] W[t]^T (samples x n_out)
    const auto sh = cuda::forward_shape(B, n_in, n_out);
    expect_valid(sh);
    const auto s = eval_shape(sh, W, h, T);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < B; ++i)
        for (int j = 0; j < n_out; ++j) {
          double ref = 0;
          for (int k = 0; k < n_in; ++k) ref += at(h, t, B, n_in, i, k) * at(W, t, n_out, n_in, j, k);
          EXPECT_EQ(at(s, t, B, n_out, i, j), ref) << "forward";
        }
  }
  {  // shared teacher: s[t] = h[t] W[0]^T
    const auto sh = cuda::shared_weight_shape(B, n_in, n_out);
    EXPECT_EQ(sh.stride_a, 0);
    const auto s = eval_shape(sh, W, h, T);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < B; ++i)
        for (int j = 0; j < n_out; ++j) {
          double ref = 0;
          for (int k = 0; k < n_in; ++k) ref += at(h, t, B, n_in, i, k) * at(W, 0, n_out, n_in, j, k);
          EXPECT_EQ(at(s, t, B, n_out, i, j), ref) << "shared weight";
        }
  }
  {  // backward data: dh[t] = g[t] W[t] (samples x n_in)
    const auto sh = cuda::backward_data_shape(B, n_out, n_in);
    expect_valid(sh);
    const auto dh = eval_shape(sh, W, g, T);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < B; ++i)
        for (int c = 0; c < n_in; ++c) {
          double ref = 0;
          for (int o = 0; o < n_out; ++o) ref += at(g, t, B, n_out, i, o) * at(W, t, n_out, n_in, o, c);
          EXPECT_EQ(at(dh, t, B, n_in, i, c), ref) << "backward data";
        }
  }
  {  // weight gradient: dW[t] = g[t]^T h[t] (n_out x n_in)
    const auto sh = cuda::weight_grad_shape(B, n_out, n_in);
    expect_valid(sh);
    const auto dw = eval_shape(sh, h, g, T);
    for (int t = 0; t < T; ++t)
      for (int o = 0; o < n_out; ++o)
        for (int c = 0; c < n_in; ++c) {
          double ref = 0;
          for (int i = 0; i < B; ++i) ref += at(g, t, B, n_out, i, o) * at(h, t, B, n_in, i, c);
          EXPECT_EQ(at(dw, t, n_out, n_in, o, c), ref) << "weight gradient";
        }
  }
}

TEST(CudaSvdSolver, NamesRoundTripAndUnknownNamesAreRefused) {
  using cuda::SvdSolver;
  for (SvdSolver s : {SvdSolver::Gesvd, SvdSolver::GramBatched, SvdSolver::GramSyevd})
    EXPECT_EQ(cuda::parse_svd_solver(cuda::to_string(s), "test"), s);
  try {
    cuda::parse_svd_solver("gesdd", "INITSCOPE_JACOBIAN_SOLVER");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("INITSCOPE_JACOBIAN_SOLVER"), std::string::npos) << m;
    EXPECT_NE(m.find("'gesdd'"), std::string::npos) << m;
    EXPECT_NE(m.find("gram-batched"), std::string::npos) << m;
  }
  unsetenv("INITSCOPE_JACOBIAN_SOLVER");
  EXPECT_EQ(cuda::svd_solver_from_environment(), SvdSolver::Gesvd);
  setenv("INITSCOPE_JACOBIAN_SOLVER", "gram-syevd", 1);
  EXPECT_EQ(cuda::svd_solver_from_environment(), SvdSolver::GramSyevd);
  setenv("INITSCOPE_JACOBIAN_SOLVER", "", 1);
  EXPECT_EQ(cuda::svd_solver_from_environment(), SvdSolver::Gesvd);
  unsetenv("INITSCOPE_JACOBIAN_SOLVER");
}
