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

#include "cuda/draw_block.cuh"  // first: it includes curand_kernel.h for the host
#include <lapacke.h>

#include "kernels/backward_elems.h"
#include "cuda/check.h"
#include "host/app/config.h"
#include "host/app/backends.h"
#include "host/backend/chunk_stats.h"
#include "cuda/cuda_backend.h"
#include "cuda/gemm_shapes.h"
#include "host/backend/backend.h"
#include "host/cpu/svd.h"
#include "host/cpu/cpu_kernels.h"
#include "host/cpu/cpu_stats.h"
#include "kernels/radix_select.cuh"
#include "kernels/rng.h"

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
  for (const LayerDraw d : {LayerDraw{DrawKind::Constant, 0.3f}, LayerDraw{DrawKind::Uniform, 0.7f},
                            LayerDraw{DrawKind::Normal, 1.3f}})
    for (uint64_t seed : {uint64_t(1), uint64_t(0x0123456789abcdefull), ~uint64_t(0)})
      for (uint64_t sub : {input_subsequence(0), weight_subsequence(12345, 3), bias_subsequence(7, 999),
                           teacher_subsequence()}) {
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

TEST(RadixSelect, KeysPreserveOrderAndRoundTrip) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> v{-inf, -3.4e38f, -1.0f, -1e-45f, -0.0f, 0.0f, 1e-45f, 1.17e-38f, 0.5f, 1.0f, 3.4e38f, inf};
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i] == v[i + 1]) EXPECT_EQ(radix_key(v[i]), radix_key(v[i + 1]));  // -0 and +0
    else EXPECT_LT(radix_key(v[i]), radix_key(v[i + 1])) << v[i] << " " << v[i + 1];
  }
  for (float x : v) {
    const float back = radix_value(radix_key(x));
    const float want = x == 0.0f ? 0.0f : x;  // -0 comes back as +0
    EXPECT_EQ(std::memcmp(&back, &want, sizeof back), 0) << x;
  }
}

// The selection the kernel performs (cuda/percentiles.cu), sequentially: counts of the top byte
// over all finite values, then three passes each counting the next byte among the values that
// share the prefix found so far.
float radix_select_reference(const std::vector<float>& x, uint64_t rank) {
  uint64_t count[256] = {};
  for (float v : x)
    if (std::isfinite(v)) ++count[radix_digit(radix_key(v), 0)];
  uint64_t before = 0;
  uint32_t prefix = radix_find_digit(count, rank, &before);
  rank -= before;
  for (int pass = 1; pass < 4; ++pass) {
    std::fill(count, count + 256, 0);
    for (float v : x) {
      if (!std::isfinite(v)) continue;
      const uint32_t k = radix_key(v);
      if (radix_prefix(k, pass) == prefix) ++count[radix_digit(k, pass)];
    }
    prefix = (prefix << 8) | radix_find_digit(count, rank, &before);
    rank -= before;
  }
  return radix_value(prefix);
}

TEST(RadixSelect, FindsExactOrderStatistics) {
  std::mt19937 gen(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int kind = 0; kind < 4; ++kind) {
    std::vector<float> x(5000);
    for (auto& v : x) {
      v = nd(gen);
      if (kind == 1) v = v > 0 ? v : 0.0f;                      // relu: half the values tie at 0
      if (kind == 2) v = std::round(v * 4.0f) / 4.0f;           // few distinct values
      if (kind == 3) v = v * 1e-40f;                            // subnormals, with -0 and +0
    }
    x[7] = std::numeric_limits<float>::quiet_NaN();
    x[8] = -std::numeric_limits<float>::infinity();
    std::vector<float> fin;
    for (float v : x)
      if (std::isfinite(v)) fin.push_back(v);
    std::vector<float> sorted = fin;
    std::sort(sorted.begin(), sorted.end());
    for (double p : {0.0, 2.0, 25.0, 50.0, 97.5, 98.0, 100.0})
      for (int slot = 0; slot < 2; ++slot) {
        const uint64_t r = percentile_rank(p, fin.size(), slot);
        ASSERT_LT(r, fin.size());
        EXPECT_EQ(radix_select_reference(x, r), sorted[r]) << "kind " << kind << " p " << p << " slot " << slot;
      }
  }
}

TEST(ChunkResults, InterpolateLikeComputeStats) {
  // The device's outputs for one (trial, layer), built from host arrays: assembling them must give
  // what compute_stats gives on the same values, for every quantity the layer measured (here
  // s, h, a gradient with symmetric-log bins and a differently sized weight gradient), and empty
  // statistics for the quantity it did not measure.
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.2f, 1.5f);
  const int samples = 7, width = 11, bins = 10;
  const std::vector<double> ps{0.0, 2.0, 33.3, 50.0, 98.0, 100.0};
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<float> x[kQuantities];
    x[0].resize(samples * width);
    x[1].resize(samples * width);
    x[2].resize(samples * width);
    x[3].resize(width * 5);
    for (std::size_t i = 0; i < x[0].size(); ++i) {
      x[0][i] = variant == 2 ? 0.25f : nd(gen);  // variant 2: all values equal
      x[1][i] = std::tanh(x[0][i]);
      x[2][i] = x[0][i] * 1e-4f;
    }
    for (auto& v : x[3]) v = variant == 2 ? -3e-7f : nd(gen) * 1e-6f;
    if (variant == 1) {
      x[0][3] = std::numeric_limits<float>::quiet_NaN();
      x[1][3] = x[0][3];
      x[0][5] = std::numeric_limits<float>::infinity();
      x[3][2] = -std::numeric_limits<float>::infinity();
    }
    Chunk c;
    c.trials = 1;
    c.samples = samples;
    c.layers = 1;
    c.stats.range[0] = HistRange{-2.0f, 2.0f, bins};
    c.stats.range[1] = HistRange{-1.0f, 1.0f, bins + 3};
    c.stats.range[2] = HistRange{-9.0f, 9.0f, bins + 5, 1e-10f};
    c.stats.range[3] = HistRange{-9.0f, 9.0f, bins + 5, 1e-10f};
    c.stats.range[4] = HistRange{0.0f, 4.0f, bins + 1};
    c.stats.percentiles = ps;
    const HistLayout hl = hist_layout(c.stats);
    EXPECT_EQ(hl.stride, uint64_t(5 * bins + 3 + 5 + 5 + 1 + 10));
    TrialStats ref[kQuantities];
    std::vector<float> scratch;
    ChunkArrays d;
    d.moments.resize(kQuantities);
    d.counts.resize(kQuantities * 3);
    d.hist.resize(hl.stride);
    d.selected.resize(kQuantities * 2 * ps.size());
    std::vector<int64_t> measured(kQuantities, -1);
    for (int q = 0; q < 4; ++q) {
      compute_stats(x[q].data(), x[q].size(), c.stats.range[q], ps, nullptr, ref[q], scratch);
      measured[std::size_t(q)] = int64_t(x[q].size());
      d.moments[std::size_t(q)] = ref[q].m;
      d.counts[std::size_t(q) * 3 + 0] = ref[q].nan;
      d.counts[std::size_t(q) * 3 + 1] = ref[q].inf;
      std::copy(ref[q].hist.begin(), ref[q].hist.end(), d.hist.begin() + std::ptrdiff_t(hl.offset[q]));
      std::vector<float> fin;
      for (float v : x[q])
        if (std::isfinite(v)) fin.push_back(v);
      std::sort(fin.begin(), fin.end());
      for (std::size_t i = 0; i < ps.size(); ++i)
        for (int slot = 0; slot < 2; ++slot)
          d.selected[std::size_t(q) * 2 * ps.size() + 2 * i + std::size_t(slot)] =
              fin[percentile_rank(ps[i], fin.size(), slot)];
    }
    d.pair_corr = {0.25};
    const auto out = assemble_trial_stats(c, measured, d);
    ASSERT_EQ(out.size(), std::size_t(kQuantities));
    EXPECT_EQ(out[0].pair_corr, 0.25);
    for (int q = 0; q < 4; ++q) {
      const std::string where = "variant " + std::to_string(variant) + " quantity " + std::to_string(q);
      if (q) {
        EXPECT_EQ(out[q].pair_corr, 0.0) << where;
      }
      EXPECT_EQ(out[q].count, ref[q].count) << where;
      EXPECT_EQ(out[q].nan, ref[q].nan) << where;
      EXPECT_EQ(out[q].inf, ref[q].inf) << where;
      EXPECT_EQ(out[q].m.n, ref[q].m.n) << where;
      EXPECT_EQ(out[q].hist, ref[q].hist) << where;
      EXPECT_EQ(out[q].percentiles, ref[q].percentiles) << where;
    }
    EXPECT_TRUE(out[4].hist.empty());
    EXPECT_TRUE(out[4].percentiles.empty());
    EXPECT_EQ(out[4].count, 0u);
  }
}

namespace {
uint32_t bits_u(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
bool same_bits_or_nan(float a, float b) { return bits_u(a) == bits_u(b) || (std::isnan(a) && std::isnan(b)); }
}  // namespace

TEST(CudaBackwardElems, GradTimesDerivativeIsTheCpus) {
  // The backward stats kernel's element operation against the CPU's cpu_mul_activation_derivative
  // (which inlines tanh and relu differently): the same bits for every activation, including
  // signed zeros, subnormals, huge values, infinities and NaN (NaN: any NaN).
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> s{0.0f, -0.0f, 1e-45f, -1e-40f, 0.5f, -0.5f, 3.0f, -3.0f, 20.0f, -90.0f, 1e30f, -1e30f,
                       inf, -inf, nan};
  std::mt19937 gen(5);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (int i = 0; i < 2000; ++i) s.push_back(nd(gen));
  std::vector<float> g(s.size());
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = i % 7 == 0 ? -0.0f : i % 11 == 0 ? inf : nd(gen) * 1e-3f;
  for (Activation a : {Activation::Linear, Activation::Sigmoid, Activation::Tanh, Activation::Softsign,
                       Activation::Relu, Activation::LeakyRelu}) {
    ActivationSpec act;
    act.kind = a;
    act.slope = 0.07f;
    std::vector<float> ref = g;
    cpu_mul_activation_derivative(ref.data(), s.data(), s.size(), act);
    for (std::size_t i = 0; i < s.size(); ++i)
      ASSERT_TRUE(same_bits_or_nan(grad_times_derivative(act, g[i], s[i]), ref[i]))
          << to_string(a) << ": g " << g[i] << ", s " << s[i];
  }
}

TEST(CudaBackwardElems, RandomTargetsAreTheCpus) {
  auto cpu = make_backend("cpu", {1});
  for (int classes : {1, 2, 10, 1000, 1 << 24}) {
    Chunk ch;
    ch.stream = 0x5eedf00dull * uint64_t(classes);
    ch.first_trial = 17;
    ch.trials = 3;
    ch.samples = 37;  // not a multiple of 4
    ch.layers = 1;
    auto y = cpu->alloc(std::size_t(ch.trials) * ch.samples), x = cpu->alloc(1);
    cpu->begin_chunk(ch);
    cpu->fill_targets(*y, TargetKind::Random, *x, 1, classes);
    std::vector<float> ref(y->size());
    cpu->download(*y, ref.data(), ref.size());
    for (int t = 0; t < ch.trials; ++t)
      for (int i = 0; i < ch.samples; ++i)
        ASSERT_EQ(bits_u(random_target(ch.stream, ch.first_trial + uint64_t(t), uint64_t(i), classes)),
                  bits_u(ref[std::size_t(t) * ch.samples + i]))
            << "classes " << classes << ", trial " << t << ", sample " << i;
  }
}

TEST(CudaBackwardElems, ArgmaxIsMaxElement) {
  // The teacher's argmax: std::max_element's answer (the first of equal maxima), whatever the row holds.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> rows{{1.0f},
                                       {2.0f, 2.0f, 1.0f},
                                       {1.0f, 3.0f, 3.0f},
                                       {-0.0f, 0.0f},
                                       {nan, 1.0f, 2.0f},
                                       {1.0f, nan, 0.5f, 2.0f},
                                       {-inf, -inf},
                                       {-1.0f, inf, inf, 5.0f}};
  std::mt19937 gen(9);
  std::uniform_int_distribution<int> small(-3, 3);
  for (int r = 0; r < 500; ++r) {
    std::vector<float> row(1 + r % 12);
    for (auto& v : row) v = float(small(gen));  // many ties
    rows.push_back(row);
  }
  for (const auto& row : rows)
    EXPECT_EQ(argmax_first(row.data(), int(row.size())), int(std::max_element(row.begin(), row.end()) - row.begin()));
}

TEST(CudaBackwardElems, UnitBiasIsTheCpus) {
  // add_bias with random biases (the output layer's logits): x + (bias + draw_j), the CPU's rounding.
  auto cpu = make_backend("cpu", {1});
  Chunk ch;
  ch.stream = 77;
  ch.first_trial = 3;
  ch.trials = 2;
  ch.samples = 5;
  ch.layers = 2;
  const int classes = 7, layer = 2;
  const float bias = 0.1f;
  for (float bias_std : {0.0f, 0.3f}) {
    ch.bias_std = bias_std;
    const std::size_t n = std::size_t(ch.trials) * ch.samples * classes;
    auto z = cpu->alloc(n);
    cpu->begin_chunk(ch);
    cpu->init_weights(*z, LayerDraw{DrawKind::Normal, 2.0f}, 9, ch.samples, classes);  // any values
    std::vector<float> before(n), after(n);
    cpu->download(*z, before.data(), n);
    cpu->add_bias(*z, bias, classes, layer);
    cpu->download(*z, after.data(), n);
    for (int t = 0; t < ch.trials; ++t)
      for (int i = 0; i < ch.samples; ++i)
        for (int j = 0; j < classes; ++j) {
          const std::size_t e = (std::size_t(t) * ch.samples + i) * classes + j;
          float want = add_rn(before[e], bias);
          if (bias_std > 0.0f) {
            float v[4];
            draw4(LayerDraw{DrawKind::Normal, bias_std}, ch.stream, bias_subsequence(ch.first_trial + t, layer),
                  uint64_t(j) / 4, v);
            want = add_unit_bias(before[e], bias, v[j % 4]);
          }
          ASSERT_EQ(bits_u(after[e]), bits_u(want)) << "bias_std " << bias_std << " at " << e;
        }
  }
}

TEST(CudaBackwardElems, JacobianLayoutForGesvd) {
  // The Jacobian kernel's elements are the CPU's bits, every element lands once, and the stored
  // matrix, decomposed under cuSOLVER gesvd's contract (column-major m x n, m >= n, lda = m; here
  // LAPACK's sgesvd with the same arguments), has the CPU's singular values (sgesdd on the
  // row-major J). Two backward-stable algorithms in binary32 on matrices of norm ~1 and size <= 9:
  // differences of a few 1e-7; 1e-5 of the largest singular value is ample.
  std::mt19937 gen(21);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (auto [n_out, n_in] : {std::pair{5, 9}, std::pair{9, 5}, std::pair{7, 7}, std::pair{1, 4}, std::pair{4, 1}})
    for (Activation a : {Activation::Tanh, Activation::Relu, Activation::Softsign}) {
      ActivationSpec act;
      act.kind = a;
      std::vector<float> s(static_cast<std::size_t>(n_out)), w(static_cast<std::size_t>(n_out) * n_in);
      for (auto& v : s) v = nd(gen);
      for (auto& v : w) v = nd(gen) / std::sqrt(float(n_in));
      const SvdShape sh = jacobian_svd_shape(n_out, n_in);
      ASSERT_GE(sh.m, sh.n);
      ASSERT_EQ(std::size_t(sh.m) * sh.n, w.size());
      std::vector<float> stored(w.size(), std::numeric_limits<float>::quiet_NaN());
      for (int r = 0; r < n_out; ++r)
        for (int c = 0; c < n_in; ++c) {
          const float want = mul_rn(activate_derivative(act, s[std::size_t(r)]), w[std::size_t(r) * n_in + c]);
          const float got = jacobian_element(act, s[std::size_t(r)], w[std::size_t(r) * n_in + c]);
          ASSERT_EQ(bits_u(got), bits_u(want));
          const uint64_t idx = jacobian_index(sh, r, c);
          ASSERT_LT(idx, stored.size());
          ASSERT_TRUE(std::isnan(stored[idx])) << "written twice";
          stored[idx] = got;
        }
      std::vector<float> sv(std::size_t(sh.n)), ref(std::size_t(sh.n)), superb(std::size_t(sh.n));
      ASSERT_EQ(LAPACKE_sgesvd(LAPACK_COL_MAJOR, 'N', 'N', sh.m, sh.n, stored.data(), sh.m, sv.data(), nullptr, 1,
                               nullptr, 1, superb.data()),
                0);
      jacobian_singular_values(s.data(), w.data(), act, n_out, n_in, ref.data());
      for (std::size_t i = 0; i < sv.size(); ++i)
        EXPECT_NEAR(sv[i], ref[i], 1e-5 * ref[0] + 1e-30) << n_out << "x" << n_in << " " << to_string(a) << " sv " << i;
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
