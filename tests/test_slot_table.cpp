// test_slot_table.cpp — the symmetric-log slot search (slot_table.h) against the logarithm, and the monotonicity it
// rests on.
#include <gtest/gtest.h>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "host/cpu/float_order.h"
#include "host/cpu/hist_keys.h"
#include "host/cpu/isa.h"
#include "host/cpu/slot_table.h"
#include "kernels/det_math.h"

using namespace isc;

namespace {
// det_log of the n floats whose bits follow `first`, built for each x86-64 level so that it vectorizes.
ISC_CLONES void det_logs(uint32_t first, uint32_t n, float* out) {
  for (uint32_t i = 0; i < n; ++i) out[i] = det_log(float_of(first + i));
}
}  // namespace

TEST(SlotTable, DetLogIsMonotoneOnEveryFloatFromOne) {
  // The search is exact only because symlog's slots never decrease as x grows, and that rests on
  // det_log being non-decreasing on [1, FLT_MAX] (its argument is 1 + |x| / linthresh). Every one
  // of those 2^30 floats, in order.
  const auto t0 = std::chrono::steady_clock::now();
  const uint32_t first = 0x3f800000u, last = 0x7f7fffffu;  // bits of 1 and of FLT_MAX
  constexpr uint32_t kBlock = 4096;
  std::vector<float> v(kBlock);
  float prev = det_log(1.0f);
  uint64_t bad = 0;
  for (uint32_t b = first; b <= last; b += kBlock) {
    const uint32_t n = last - b + 1 < kBlock ? last - b + 1 : kBlock;
    det_logs(b, n, v.data());
    for (uint32_t i = 0; i < n; ++i) {
      if (v[i] < prev && bad++ < 5) ADD_FAILURE() << "det_log decreases at bits " << std::hex << b + i;
      prev = v[i];
    }
  }
  EXPECT_EQ(bad, 0u);
  std::printf("  (checked 2^30 floats in %.1f s)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

TEST(SlotTable, SearchEqualsTheLogarithmOnEveryPath) {
  // cpu_hist_slots_table against cpu_hist_slots (the logarithm) for several binners: the gradient
  // default, coarse and fine bins, a range that leaves values below and above it, and linthresh
  // from tiny to 1. Values: a dense sweep of the finite floats in order (every 2^10th), random
  // magnitudes of both signs, and the 7 floats either side of every edge the table holds.
  const float u12 = std::log10(1.0f + 1e2f / 1e-10f);
  const std::vector<HistRange> ranges = {{-u12, u12, 100, 1e-10f}, {-u12, u12, 7, 1e-10f}, {-u12, u12, 126, 1e-10f},
                                         {-1.0f, 3.0f, 50, 1e-3f}, {0.5f, 2.0f, 1, 1.0f},  {-3.0f, -1.0f, 20, 1e-6f},
                                         {-1.0f, 1.0f, 126, 1.0f}};
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> mag(-40.0f, 38.0f);
  int direct = 0;
  for (const HistRange& r : ranges) {
    const Binner b = make_binner(r);
    ASSERT_TRUE(slot_table_applies(b));
    const auto t = slot_table(b);
    std::printf("  bins %d, linthresh %g: %s\n", r.bins, double(r.linthresh),
                t->direct_bits ? ("direct lookup, " + std::to_string(t->direct_bits) + " bits").c_str() : "search");
    direct += t->direct_bits > 0;
    if (r.bins == 100) {
      EXPECT_GT(t->direct_bits, 0) << "the gradients' default bins have the direct lookup";
    }
    std::vector<float> x;
    for (uint32_t o = float_order(-FLT_MAX); o <= float_order(FLT_MAX) && o >= float_order(-FLT_MAX); o += 1u << 10)
      x.push_back(float_of_order(o));
    for (int i = 0; i < 200000; ++i) x.push_back((i % 2 ? -1.0f : 1.0f) * std::pow(10.0f, mag(gen)));
    for (const auto& lvl : t->level)
      for (uint32_t e : lvl)
        if (e != UINT32_MAX)
          for (int d = -7; d <= 7; ++d) {
            const float v = float_of_order(e + uint32_t(d));
            if (std::isfinite(v)) x.push_back(v);
          }
    std::vector<int32_t> want(x.size()), got(x.size());
    cpu_hist_slots(x.data(), x.size(), b, want.data());
    for (int path : cpu_draw_paths()) {
      std::fill(got.begin(), got.end(), -1);
      cpu_hist_slots_table_path(path, x.data(), x.size(), *t, got.data());
      for (std::size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "path " << path << ", bins " << r.bins << ", linthresh " << r.linthresh << ", x "
                                   << x[i];
    }
  }
  // Both forms were checked: some binners have the direct lookup, some (126 bins in the linear
  // part, dozens of edges per octave) only the search.
  EXPECT_GT(direct, 0);
  EXPECT_LT(direct, int(ranges.size()));
}

TEST(SlotTable, AppliesToSymmetricLogBinsItCanCount) {
  EXPECT_FALSE(slot_table_applies(make_binner(HistRange{-1.0f, 1.0f, 100, 0.0f})));  // linear bins
  EXPECT_TRUE(slot_table_applies(make_binner(HistRange{-1.0f, 1.0f, 126, 1e-6f})));
  EXPECT_FALSE(slot_table_applies(make_binner(HistRange{-1.0f, 1.0f, 127, 1e-6f})));  // 128 slots
  // The same binner twice: the same table (kept per thread).
  const Binner b = make_binner(HistRange{-2.0f, 2.0f, 10, 1e-4f});
  EXPECT_EQ(slot_table(b).get(), slot_table(b).get());
}
