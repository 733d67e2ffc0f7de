// gpu_test_util.h — helpers shared by the GPU test suites: the skip macro and exact comparisons.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "host/backend/backend.h"
#include "host/backend/stats.h"

// Skips the test, with the reason, when no GPU is usable.
#define REQUIRE_GPU()                                                                  \
  do {                                                                                 \
    std::string why_;                                                                  \
    if (isc::cuda_device_count(&why_) == 0) GTEST_SKIP() << "no usable GPU: " << why_; \
  } while (0)

namespace isc::gpu_test {

inline std::vector<float> get(const Backend& b, const Buffer& x, std::size_t n) {
  std::vector<float> v(n);
  b.download(x, v.data(), n);
  return v;
}

inline uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Index of the first element whose bits differ, or -1 (0 when the sizes differ).
inline long first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (bits(a[i]) != bits(b[i])) return long(i);
  return -1;
}

// Equal element by element, NaN equal to NaN (a quantity with no finite value has NaN percentiles).
inline bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

inline void expect_identical(const TrialStats& a, const TrialStats& b, const std::string& where) {
  EXPECT_EQ(a.m.n, b.m.n) << where;
  EXPECT_EQ(a.m.mean, b.m.mean) << where;
  EXPECT_EQ(a.m.m2, b.m.m2) << where;
  EXPECT_EQ(a.m.min, b.m.min) << where;
  EXPECT_EQ(a.m.max, b.m.max) << where;
  EXPECT_EQ(a.count, b.count) << where;
  EXPECT_EQ(a.nan, b.nan) << where;
  EXPECT_EQ(a.inf, b.inf) << where;
  for (int k = 0; k < kCounted; ++k) EXPECT_EQ(a.counted[k], b.counted[k]) << where << ", " << counted_name(k);
  EXPECT_TRUE(same_values(a.percentiles, b.percentiles)) << where;
  EXPECT_EQ(a.hist, b.hist) << where;
}

// Higham's gamma_k = k u / (1 - k u), u = 2^-24: the relative error bound of a k-term FP32 dot
// product in any summation order.
inline double gamma_k(int k) {
  const double u = std::ldexp(1.0, -24);
  return k * u / (1 - k * u);
}

}  // namespace isc::gpu_test
