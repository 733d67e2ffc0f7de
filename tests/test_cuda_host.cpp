// test_cuda_host.cpp — the host-side parts of the CUDA build, which run without a GPU: error
// messages of the check macros, device selection, the draw kernel's per-thread work (cuRAND's
// generator compiled for the host), radix selection steps, result assembly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cuda/draw_block.cuh"  // first: it includes curand_kernel.h for the host
#include "cuda/check.h"
#include "cuda/chunk_results.h"
#include "cuda/cuda_backend.h"
#include "host/backend.h"
#include "host/cpu_kernels.h"
#include "host/cpu_stats.h"
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
  // The device's outputs for one (trial, layer) pair, built from a host array: assembling them
  // must give what compute_stats gives on the same values.
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.2f, 1.5f);
  const int samples = 7, width = 11, bins = 10;
  const std::vector<double> ps{0.0, 2.0, 33.3, 50.0, 98.0, 100.0};
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<float> s(samples * width), h(samples * width);
    for (std::size_t i = 0; i < s.size(); ++i) {
      s[i] = variant == 2 ? 0.25f : nd(gen);  // variant 2: all values equal
      h[i] = std::tanh(s[i]);
    }
    if (variant == 1) {
      s[3] = std::numeric_limits<float>::quiet_NaN();
      h[3] = s[3];
      s[5] = std::numeric_limits<float>::infinity();
    }
    Chunk c;
    c.trials = 1;
    c.samples = samples;
    c.layers = 1;
    c.stats.range[0] = HistRange{-2.0f, 2.0f, bins};
    c.stats.range[1] = HistRange{-1.0f, 1.0f, bins + 3};
    c.stats.percentiles = ps;
    TrialStats ref[2];
    std::vector<float> scratch;
    compute_stats(s.data(), s.size(), c.stats.range[0], ps, nullptr, ref[0], scratch);
    compute_stats(h.data(), h.size(), c.stats.range[1], ps, nullptr, ref[1], scratch);
    cuda::ChunkArrays d;
    for (int q = 0; q < 2; ++q) {
      const std::vector<float>& x = q ? h : s;
      d.moments.push_back(ref[q].m);
      d.counts.insert(d.counts.end(), {ref[q].nan, ref[q].inf, 0ull});
      d.hist.insert(d.hist.end(), ref[q].hist.begin(), ref[q].hist.end());
      std::vector<float> fin;
      for (float v : x)
        if (std::isfinite(v)) fin.push_back(v);
      std::sort(fin.begin(), fin.end());
      for (double p : ps)
        for (int slot = 0; slot < 2; ++slot) d.selected.push_back(fin[percentile_rank(p, fin.size(), slot)]);
    }
    d.pair_corr = {0.25};
    const auto out = cuda::assemble_trial_stats(c, {width}, d);
    EXPECT_EQ(out[0].pair_corr, 0.25);
    EXPECT_EQ(out[1].pair_corr, 0.0);
    ASSERT_EQ(out.size(), std::size_t(kQuantities));
    for (int q = 0; q < 2; ++q) {
      EXPECT_EQ(out[q].count, ref[q].count);
      EXPECT_EQ(out[q].nan, ref[q].nan);
      EXPECT_EQ(out[q].inf, ref[q].inf);
      EXPECT_EQ(out[q].hist, ref[q].hist);
      EXPECT_EQ(out[q].percentiles, ref[q].percentiles) << "variant " << variant << " quantity " << q;
    }
    for (int q = 2; q < kQuantities; ++q) EXPECT_TRUE(out[q].hist.empty());
  }
}
