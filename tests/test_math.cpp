// test_math.cpp — the shared __host__ __device__ math against closed forms and published vectors.
#include <gtest/gtest.h>
#include <algorithm>
#include <cstring>

#include <cmath>
#include <vector>

#include "host/cpu/activation_loops.h"
#include "host/cpu/draws.h"
#include "host/cpu/hist_keys.h"
#include "host/cpu/scans.h"
#include "kernels/activations.h"
#include "kernels/histogram.h"
#include "kernels/init.h"
#include "kernels/moments.h"
#include "kernels/rng.h"

using namespace isc;

TEST(Philox, KnownAnswerVectors) {
  // Random123's kat_vectors for philox4x32 with 10 rounds: counter, key -> output.
  struct Kat {
    U32x4 ctr;
    uint32_t k0, k1;
    U32x4 out;
  } kats[] = {
      {{0, 0, 0, 0}, 0, 0, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       0xffffffff,
       0xffffffff,
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       0xa4093822,
       0x299f31d0,
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    const U32x4 o = philox4x32_10(k.ctr, k.k0, k.k1);
    EXPECT_EQ(o.x, k.out.x);
    EXPECT_EQ(o.y, k.out.y);
    EXPECT_EQ(o.z, k.out.z);
    EXPECT_EQ(o.w, k.out.w);
  }
}

TEST(Philox, CurandCounterMapping) {
  // cuRAND: curand_init(seed, subseq, offset) puts offset/4 in ctr.x,y, subseq in ctr.z,w and the
  // seed halves in the key. Check the mapping against the raw block function.
  const uint64_t seed = 0x0123456789abcdefull, sub = 0x00000002fffffffeull, block = 0x1'0000'0003ull;
  const U32x4 a = philox_block(seed, sub, block);
  const U32x4 b = philox4x32_10({0x00000003u, 0x1u, 0xfffffffeu, 0x2u}, 0x89abcdefu, 0x01234567u);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.w, b.w);
}

TEST(Philox, UniformConversionMatchesCurand) {
  // _curand_uniform(x) = x * 2^-32 + 2^-33: in (0, 1], 0 -> 2^-33, max -> 1.0f.
  EXPECT_EQ(uniform_from_bits(0u), std::ldexp(1.0f, -33));
  EXPECT_EQ(uniform_from_bits(0xffffffffu), 1.0f);
  EXPECT_FLOAT_EQ(uniform_from_bits(0x80000000u), 0.5f + std::ldexp(1.0f, -33));
}

TEST(DetMath, LogWithinTwoUlp) {
  for (float x = 1e-10f; x <= 1.0f; x *= 1.0137f) {
    const double ref = std::log(double(x));
    const float got = det_log(x);
    const double ulp = std::nextafter(float(std::fabs(ref)), INFINITY) - float(std::fabs(ref));
    EXPECT_LE(std::fabs(got - ref), 2.0 * ulp + 1e-12) << "x=" << x;
  }
  EXPECT_EQ(det_log(1.0f), 0.0f);
}

TEST(DetMath, SinCosAccurate) {
  for (int i = 0; i <= 4096; ++i) {
    const float v = float(i) / 4096.0f;
    float s, c;
    det_sincos_2pi(v, &s, &c);
    const double a = 2.0 * M_PI * double(v);
    EXPECT_NEAR(s, std::sin(a), 2e-7) << v;
    EXPECT_NEAR(c, std::cos(a), 2e-7) << v;
  }
}

TEST(Rng, NormalMoments) {
  // 2^20 draws: the standard error of the mean is 1/sqrt(n) ~ 1e-3 and of the variance
  // sqrt(2/n) ~ 1.4e-3; allow 5 standard errors.
  const int n = 1 << 20;
  double s = 0, s2 = 0, s4 = 0;
  for (int b = 0; b < n / 4; ++b) {
    float v[4];
    normal4(42, 7, uint64_t(b), v);
    for (float x : v) {
      s += x;
      s2 += double(x) * x;
      s4 += double(x) * x * x * x;
    }
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(double(n)));
  EXPECT_NEAR(var, 1.0, 5.0 * std::sqrt(2.0 / n));
  EXPECT_NEAR(s4 / n, 3.0, 5.0 * std::sqrt(96.0 / n));  // Var[z^4] = 105 - 9 = 96
}

TEST(Init, BoundsAndVariances) {
  InitSpec s;
  const int ni = 400, no = 200;
  auto check = [&](InitScheme sc, DrawKind kind, double var) {
    s.scheme = sc;
    const LayerDraw d = resolve_init(s, ni, no);
    EXPECT_EQ(d.kind, kind) << int(sc);
    EXPECT_NEAR(draw_variance(d), var, 1e-7 * var) << int(sc);
  };
  check(InitScheme::Standard, DrawKind::Uniform, 1.0 / (3.0 * ni));      // n Var = 1/3 (eq. 1)
  check(InitScheme::XavierUniform, DrawKind::Uniform, 2.0 / (ni + no));  // eq. 16
  check(InitScheme::XavierNormal, DrawKind::Normal, 2.0 / (ni + no));
  check(InitScheme::LecunUniform, DrawKind::Uniform, 1.0 / ni);
  check(InitScheme::LecunNormal, DrawKind::Normal, 1.0 / ni);
  check(InitScheme::HeUniform, DrawKind::Uniform, 2.0 / ni);
  check(InitScheme::HeNormal, DrawKind::Normal, 2.0 / ni);
  s.slope = 0.2;
  check(InitScheme::HeNormal, DrawKind::Normal, 2.0 / ((1 + 0.04) * ni));
  s.slope = 0.0;
  s.gain = 2.0;
  check(InitScheme::XavierNormal, DrawKind::Normal, 4.0 * 2.0 / (ni + no));
  s.gain = 1.0;
  s.bound = 0.01;
  check(InitScheme::Uniform, DrawKind::Uniform, 0.01 * 0.01 / 3.0);
  s.scheme = InitScheme::Constant;
  s.value = 0.3;
  EXPECT_EQ(resolve_init(s, ni, no).scale, 0.3f);
  s.scheme = InitScheme::Zeros;
  EXPECT_EQ(resolve_init(s, ni, no).scale, 0.0f);
}

TEST(Init, UniformDrawsStayInBoundsWithVarianceA2Over3) {
  // U[-a, a] has variance a^2/3; with n = 2^18 draws the sample variance's standard error is
  // a^2 sqrt(4/45 / n) (uniform fourth moment a^4/5); allow 5 standard errors.
  const LayerDraw d{DrawKind::Uniform, 0.01f};
  const int n = 1 << 18;
  double s2 = 0;
  for (int b = 0; b < n / 4; ++b) {
    float v[4];
    draw4(d, 3, 9, uint64_t(b), v);
    for (float x : v) {
      ASSERT_LE(std::fabs(x), 0.01f);
      s2 += double(x) * x;
    }
  }
  const double a2 = 1e-4;
  EXPECT_NEAR(s2 / n, a2 / 3.0, 5.0 * a2 * std::sqrt(4.0 / 45.0 / n));
}

TEST(Activations, ClosedForms) {
  ActivationSpec a;
  const float xs[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f};
  for (float x : xs) {
    a.kind = Activation::Linear;
    EXPECT_EQ(activate(a, x), x);
    a.kind = Activation::Sigmoid;
    EXPECT_NEAR(activate(a, x), 1.0 / (1.0 + std::exp(-double(x))), 2e-7);
    a.kind = Activation::Tanh;
    EXPECT_NEAR(activate(a, x), std::tanh(double(x)), 2e-7);
    a.kind = Activation::Softsign;
    EXPECT_NEAR(activate(a, x), x / (1.0 + std::fabs(x)), 1e-7);
    a.kind = Activation::Relu;
    EXPECT_EQ(activate(a, x), x > 0 ? x : 0.0f);
    a.kind = Activation::LeakyRelu;
    a.slope = 0.1f;
    EXPECT_FLOAT_EQ(activate(a, x), x > 0 ? x : 0.1f * x);
  }
}

TEST(Activations, OwnExpTanhSigmoidWithinFourUlp) {
  // act_exp/act_tanh/act_sigmoid replace libm so that both backends compute the same bits; they
  // must stay within 4 ulp (relative 4 * 2^-24) of the double-precision reference.
  const double tol = 4.0 * std::ldexp(1.0, -24);
  for (double x = -30.0; x <= 30.0; x += 0.000731) {
    const float xf = float(x);
    const double t = std::tanh(double(xf)), s = 1.0 / (1.0 + std::exp(-double(xf)));
    EXPECT_LE(std::fabs(act_tanh(xf) - t), tol * std::fabs(t) + 1e-45) << xf;
    EXPECT_LE(std::fabs(act_sigmoid(xf) - s), tol * s + 1e-45) << xf;
    if (std::fabs(x) < 80) {
      const double e = std::exp(double(xf));
      EXPECT_LE(std::fabs(act_exp(xf) - e), tol * e) << xf;
    }
  }
  EXPECT_EQ(act_tanh(INFINITY), 1.0f);
  EXPECT_EQ(act_tanh(-INFINITY), -1.0f);
  EXPECT_EQ(act_tanh(-1e-30f), -1e-30f);
  EXPECT_EQ(act_tanh(std::ldexp(1.0f, -140)), std::ldexp(1.0f, -140));  // subnormal: tanh x = x
  EXPECT_TRUE(std::isnan(act_tanh(NAN)));
  EXPECT_EQ(act_tanh(0.0f), 0.0f);
  EXPECT_EQ(act_tanh(1e-30f), 1e-30f);
}

TEST(Activations, TanhWithinThreeUlpOnEveryFloatUpTo20) {
  // Exhaustive over [2^-12, 20] (about 1.2e8 floats; below, tanh x = x to within 2^-24 relative
  // and the first test covers it; above, tanh rounds to 1): the worst case must stay within 3 ulp
  // (relative 3 * 2^-24) of the double reference, and act_tanh is odd.
  const double tol = 3.0 * std::ldexp(1.0, -24);
  double worst = 0;
  float worst_x = 0;
  for (uint32_t u = bits_of(std::ldexp(1.0f, -12)); float_of(u) <= 20.0f; ++u) {
    const float x = float_of(u);
    const double t = std::tanh(double(x));
    const double rel = std::fabs(double(act_tanh(x)) - t) / t;
    if (rel > worst) {
      worst = rel;
      worst_x = x;
    }
  }
  EXPECT_LE(worst, tol) << "worst at x = " << worst_x;
  for (float x : {0.3f, 1.7f, 9.0f}) EXPECT_EQ(act_tanh(-x), -act_tanh(x));
}

TEST(Activations, DerivativesMatchFiniteDifferences) {
  ActivationSpec a;
  a.slope = 0.1f;
  for (Activation k : {Activation::Linear, Activation::Sigmoid, Activation::Tanh, Activation::Softsign,
                       Activation::Relu, Activation::LeakyRelu}) {
    a.kind = k;
    for (float x : {-2.0f, -0.7f, 0.3f, 1.5f}) {
      const float h = 1e-2f;
      const double fd = (double(activate(a, x + h)) - double(activate(a, x - h))) / (2.0 * h);
      // Central difference error is O(h^2 f'''); 1e-3 covers every activation here.
      EXPECT_NEAR(activate_derivative(a, x), fd, 1e-3) << int(k) << " at " << x;
    }
  }
}

TEST(Activations, Saturation) {
  ActivationSpec a;
  a.kind = Activation::Tanh;
  a.threshold = 0.99f;
  EXPECT_TRUE(saturated(a, 0.995f));
  EXPECT_TRUE(saturated(a, -0.99f));
  EXPECT_FALSE(saturated(a, 0.98f));
  a.kind = Activation::Sigmoid;
  EXPECT_TRUE(saturated(a, 0.005f));
  EXPECT_TRUE(saturated(a, 0.995f));
  EXPECT_FALSE(saturated(a, 0.5f));
  a.kind = Activation::Relu;
  EXPECT_TRUE(saturated(a, 0.0f));
  EXPECT_FALSE(saturated(a, 1e-30f));
  a.kind = Activation::Linear;
  EXPECT_FALSE(saturated(a, 1e9f));
}

TEST(Histogram, HalfOpenBinsLastClosed) {
  const Binner b = make_binner(HistRange{0.0f, 8.0f, 8});
  EXPECT_EQ(hist_slot(b, -1e-7f), 0);  // underflow
  EXPECT_EQ(hist_slot(b, 0.0f), 1);    // [0, 1)
  EXPECT_EQ(hist_slot(b, 0.999999f), 1);
  EXPECT_EQ(hist_slot(b, 1.0f), 2);  // edge belongs to the bin above
  EXPECT_EQ(hist_slot(b, 7.0f), 8);
  EXPECT_EQ(hist_slot(b, 8.0f), 8);       // last bin is closed
  EXPECT_EQ(hist_slot(b, 8.000001f), 9);  // overflow
  EXPECT_EQ(hist_slot(b, INFINITY), 9);
  EXPECT_EQ(hist_slot(b, -INFINITY), 0);
  EXPECT_EQ(hist_slot(b, NAN), -1);
}

TEST(Histogram, EveryValueFallsBetweenItsReportedEdges) {
  // With edges that are not exactly representable, each value must still land in the bin whose
  // reported float edges bracket it.
  const Binner b = make_binner(HistRange{-1.0f, 1.0f, 100});
  for (int i = 0; i <= 100; ++i) {
    const float e = hist_edge(b, i);
    for (float x : {std::nextafter(e, -2.0f), e, std::nextafter(e, 2.0f)}) {
      const int s = hist_slot(b, x);
      if (x < -1.0f) {
        EXPECT_EQ(s, 0);
        continue;
      }
      if (x > 1.0f) {
        EXPECT_EQ(s, 101);
        continue;
      }
      ASSERT_GE(s, 1);
      ASSERT_LE(s, 100);
      EXPECT_GE(x, hist_edge(b, s - 1));
      if (s < 100)
        EXPECT_LT(x, hist_edge(b, s));
      else
        EXPECT_LE(x, hist_edge(b, s));
    }
  }
}

TEST(Moments, ChanMergeEqualsOnePass) {
  std::vector<float> x;
  for (int i = 0; i < 5000; ++i) x.push_back(std::sin(0.37f * i) * 3.0f + 1.0f);
  const Moments all = block_moments(x.data(), int(x.size()));
  Moments parts;
  for (int start = 0; start < 5000; start += 777)
    merge(parts, block_moments(x.data() + start, std::min(777, 5000 - start)));
  EXPECT_EQ(parts.n, all.n);
  EXPECT_NEAR(parts.mean, all.mean, 1e-12);
  EXPECT_NEAR(parts.m2, all.m2, 1e-9 * all.m2);
  EXPECT_EQ(parts.min, all.min);
  EXPECT_EQ(parts.max, all.max);
}

TEST(CpuKernels, BatchedDrawsEqualScalarReference) {
  // Every vectorized Philox path this CPU runs (generic, AVX2, AVX-512) must give exactly draw4()'s
  // bits, for any length.
  for (int path : cpu_draw_paths())
    for (DrawKind k : {DrawKind::Uniform, DrawKind::Normal}) {
      const LayerDraw d{k, 0.37f};
      for (std::size_t n : {1ul, 5ul, 64ul, 67ul, 128ul, 256ul, 320ul, 1000ul, 1031ul}) {
        std::vector<float> got(n);
        cpu_fill_draws_path(path, d, 0xfeedbeefcafeull, 12345, got.data(), n);
        for (std::size_t e = 0; e < n; ++e) {
          float v[4];
          draw4(d, 0xfeedbeefcafeull, 12345, e / 4, v);
          ASSERT_EQ(got[e], v[e % 4]) << "path " << path << " kind " << int(k) << " n " << n << " e " << e;
        }
      }
    }
}

TEST(CpuKernels, Philox16PathsEqualScalarBlocks) {
  // 16 blocks at once on each path, including counters whose low word wraps (the carry into y) and
  // subsequences with both halves set.
  for (int path : cpu_draw_paths())
    for (uint64_t block0 : {0ull, 0xfffffff8ull, 0x1fffffffaull, 0xfffffffffffffff0ull})
      for (uint64_t sub : {0ull, 7ull, 0x123456789abcdefull}) {
        uint32_t got[4][16];
        cpu_philox16(path, 0x0123456789abcdefull, sub, block0, got);
        for (int i = 0; i < 16; ++i) {
          const U32x4 want = philox_block(0x0123456789abcdefull, sub, block0 + i);
          for (unsigned k = 0; k < 4; ++k)
            ASSERT_EQ(got[k][i], lane(want, k)) << "path " << path << " block " << block0 + i << " word " << k;
        }
      }
}

TEST(CpuKernels, CountLtLeManyThresholdsMatchScalar) {
  // 11 thresholds (two passes of 8), ties, NaN, and a length with a scalar tail.
  std::vector<float> x(1037);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 101) - 50) / 8.0f;
  x[5] = std::nanf("");
  x[900] = -INFINITY;
  const std::vector<float> c = {-7.0f, -6.25f, -1.0f, 0.0f, 0.125f, 2.5f, 3.0f, 6.25f, 7.0f, -INFINITY, 100.0f};
  for (int path : cpu_draw_paths()) {  // every instruction-set path this CPU runs, and the default
    std::vector<uint64_t> lt(c.size()), le(c.size());
    for (std::size_t n : {x.size(), std::size_t(4096 + 17), std::size_t(15)}) {
      std::vector<float> y(n);
      for (std::size_t i = 0; i < n; ++i) y[i] = x[i % x.size()];
      cpu_count_lt_le_path(path, y.data(), n, c.data(), int(c.size()), lt.data(), le.data());
      for (std::size_t j = 0; j < c.size(); ++j) {
        uint64_t a = 0, b = 0;
        for (float v : y) {
          a += v < c[j];
          b += v <= c[j];
        }
        EXPECT_EQ(lt[j], a) << "path " << path << " n " << n << " threshold " << c[j];
        EXPECT_EQ(le[j], b) << "path " << path << " n " << n << " threshold " << c[j];
      }
    }
  }
  std::vector<uint64_t> lt(c.size()), le(c.size());
  cpu_count_lt_le(x.data(), x.size(), c.data(), int(c.size()), lt.data(), le.data());
  EXPECT_EQ(lt[3], uint64_t(std::count_if(x.begin(), x.end(), [](float v) { return v < 0.0f; })));
}

TEST(CpuKernels, BlockMomentsPathsAgreeBitForBit) {
  // Every instruction-set path gives the generic loop's bits (same lanes, same combining order),
  // for lengths around the 32-lane step, with signed zeros and a large offset; and the moments
  // agree with a long double two-pass reference to 1e-12 relative.
  std::vector<float> x(4096 + 37);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1000.0f + std::sin(0.37f * float(i)) * float(i % 13);
  x[3] = 0.0f;
  x[40] = -0.0f;
  for (std::size_t n :
       {std::size_t(1), std::size_t(31), std::size_t(32), std::size_t(33), std::size_t(1000), x.size()}) {
    const Moments g = cpu_block_moments_path(kPathGeneric, x.data(), n);
    for (int path : cpu_draw_paths()) {
      const Moments m = cpu_block_moments_path(path, x.data(), n);
      EXPECT_EQ(m.n, g.n);
      EXPECT_EQ(std::memcmp(&m.mean, &g.mean, sizeof m.mean), 0) << "path " << path << " n " << n;
      EXPECT_EQ(std::memcmp(&m.m2, &g.m2, sizeof m.m2), 0) << "path " << path << " n " << n;
      EXPECT_EQ(std::memcmp(&m.min, &g.min, sizeof m.min), 0) << "path " << path << " n " << n;
      EXPECT_EQ(std::memcmp(&m.max, &g.max, sizeof m.max), 0) << "path " << path << " n " << n;
    }
    long double s = 0, q = 0;
    for (std::size_t i = 0; i < n; ++i) s += x[i];
    const long double mean = s / n;
    for (std::size_t i = 0; i < n; ++i) q += (x[i] - mean) * (x[i] - mean);
    EXPECT_NEAR(g.mean, double(mean), 1e-12 * double(std::fabs(mean)));
    EXPECT_NEAR(g.m2, double(q), 1e-12 * double(q) + 1e-300);
    EXPECT_EQ(g.min, *std::min_element(x.begin(), x.begin() + long(n)));
    EXPECT_EQ(g.max, *std::max_element(x.begin(), x.begin() + long(n)));
  }
}

TEST(CpuKernels, GatherRangesMatchScalarInIndexOrder) {
  // Half-open ranges, NaN and infinities, lengths with vector tails; a cap below the count still
  // returns the full count and writes only `cap` values.
  std::vector<float> x(1000 + 13);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 203) - 101) / 16.0f;
  x[7] = std::nanf("");
  x[8] = INFINITY;
  x[9] = -INFINITY;
  const std::vector<float> lo = {-5.0f, -0.5f, 1.0f, 6.0f}, hi = {-4.0f, 0.25f, 1.0f, INFINITY};
  for (int path : cpu_draw_paths())
    for (std::size_t n : {x.size(), std::size_t(16), std::size_t(5)}) {
      std::vector<float> want;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < lo.size(); ++j)
          if (x[i] >= lo[j] && x[i] < hi[j]) {
            want.push_back(x[i]);
            break;
          }
      std::vector<float> got(want.size() + 16, -99.0f);
      EXPECT_EQ(
          cpu_gather_ranges_path(path, x.data(), n, lo.data(), hi.data(), int(lo.size()), got.data(), want.size()),
          want.size())
          << "path " << path;
      for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "path " << path << " at " << i;
      EXPECT_EQ(got[want.size()], -99.0f) << "path " << path << ": wrote past the count";
      if (want.size() < 2) continue;
      std::vector<float> capped(want.size(), -99.0f);
      EXPECT_EQ(cpu_gather_ranges_path(path, x.data(), n, lo.data(), hi.data(), int(lo.size()), capped.data(),
                                       want.size() / 2),
                want.size());
      for (std::size_t i = want.size() / 2; i < want.size(); ++i) EXPECT_EQ(capped[i], -99.0f) << "path " << path;
    }
}

TEST(CpuKernels, BracketScanMatchesPlainLoopsOnEveryPath) {
  // cpu_bracket_scan on each instruction-set path against plain loops: counts below each bracket,
  // the values inside in index order, a cap that keeps the first ones and still counts them all,
  // NaN in neither, +-Inf, +-0 and values equal to the bounds; lengths not multiples of 16; 1 to 5
  // brackets (the AVX-512 form takes up to 4, more go to the generic loop).
  std::vector<float> x(4096 + 13);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7919 % 203) - 101) / 16.0f;
  x[7] = std::nanf("");
  x[8] = INFINITY;
  x[9] = -INFINITY;
  x[10] = -0.0f;
  x[11] = 0.0f;
  const std::vector<float> los = {-INFINITY, -0.5f, 0.0f, 2.0f, 6.0f}, his = {-4.0f, 0.0f, 1.0f, 2.0f, INFINITY};
  for (int path : cpu_draw_paths())
    for (int k = 1; k <= 5; ++k)
      for (std::size_t n : {x.size(), std::size_t(16), std::size_t(5), std::size_t(0)}) {
        std::vector<uint64_t> below(std::size_t(k), 7), want_below(std::size_t(k), 7);
        const std::size_t kk = static_cast<std::size_t>(k);
        std::vector<std::vector<float>> want(kk), got(kk);
        std::vector<std::size_t> cap(kk), seen(kk, 0);
        std::vector<float*> out(kk);
        for (std::size_t j = 0; j < std::size_t(k); ++j) {
          for (std::size_t i = 0; i < n; ++i) {
            want_below[j] += x[i] < los[j];
            if (x[i] >= los[j] && x[i] < his[j]) want[j].push_back(x[i]);
          }
          cap[j] = j == 1 ? want[j].size() / 2 : want[j].size();  // bracket 1 overflows its room
          got[j].assign(want[j].size() + 16, -99.0f);
          out[j] = got[j].data();
        }
        cpu_bracket_scan_path(path, x.data(), n, k, los.data(), his.data(), below.data(), out.data(), cap.data(),
                              seen.data());
        for (std::size_t j = 0; j < std::size_t(k); ++j) {
          EXPECT_EQ(below[j], want_below[j]) << "path " << path << " k " << k << " n " << n << " bracket " << j;
          ASSERT_EQ(seen[j], want[j].size()) << "path " << path << " k " << k << " n " << n << " bracket " << j;
          if (cap[j] == want[j].size()) {  // all kept, in order, nothing written past them
            for (std::size_t i = 0; i < want[j].size(); ++i)
              ASSERT_EQ(got[j][i], want[j][i]) << "path " << path << " bracket " << j << " at " << i;
            EXPECT_EQ(got[j][want[j].size()], -99.0f) << "path " << path << ": wrote past the count";
          } else {  // never past the cap
            for (std::size_t i = cap[j]; i < got[j].size(); ++i) ASSERT_EQ(got[j][i], -99.0f) << "path " << path;
          }
        }
      }
}

TEST(CpuKernels, Dot3MatchesLongDouble) {
  // Double accumulation of float products: relative error <= n * 2^-52 of the sum of |terms|.
  std::vector<float> a(1003), b(1003);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = std::sin(0.37f * float(i));
    b[i] = std::cos(0.11f * float(i)) - 0.2f;
  }
  double ab, aa, bb;
  cpu_dot3(a.data(), b.data(), a.size(), &ab, &aa, &bb);
  long double rab = 0, raa = 0, rbb = 0, mab = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    rab += (long double)a[i] * b[i];
    mab += std::fabs((long double)a[i] * b[i]);
    raa += (long double)a[i] * a[i];
    rbb += (long double)b[i] * b[i];
  }
  const double tol = double(a.size()) * std::ldexp(1.0, -52);
  EXPECT_NEAR(ab, double(rab), tol * double(mab));
  EXPECT_NEAR(aa, double(raa), tol * double(raa));
  EXPECT_NEAR(bb, double(rbb), tol * double(rbb));
}

TEST(CpuKernels, BiasActivateAndSlotsMatchScalar) {
  std::vector<float> s(1003), h(1003), s2;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = -6.0f + 12.0f * float(i) / 1003.0f;
  s2 = s;
  for (Activation k : {Activation::Tanh, Activation::Sigmoid, Activation::Relu, Activation::Softsign,
                       Activation::LeakyRelu, Activation::Linear}) {
    ActivationSpec a;
    a.kind = k;
    std::vector<float> sc = s;
    cpu_bias_activate(sc.data(), h.data(), sc.size(), 0.25f, a);
    for (std::size_t i = 0; i < s.size(); ++i) {
      ASSERT_EQ(sc[i], s[i] + 0.25f);
      ASSERT_EQ(h[i], activate(a, s[i] + 0.25f)) << int(k) << " " << s[i];
    }
  }
  const Binner b = make_binner(HistRange{-5.0f, 5.0f, 37});
  std::vector<int32_t> slots(s.size());
  cpu_hist_slots(s.data(), s.size(), b, slots.data());
  for (std::size_t i = 0; i < s.size(); ++i) ASSERT_EQ(slots[i], hist_slot(b, s[i]));
  const Moments m = cpu_block_moments(s.data(), s.size()), r = block_moments(s.data(), int(s.size()));
  EXPECT_NEAR(m.mean, r.mean, 1e-12);
  EXPECT_NEAR(m.m2, r.m2, 1e-9 * r.m2);
  EXPECT_EQ(m.min, r.min);
  EXPECT_EQ(m.max, r.max);
}
