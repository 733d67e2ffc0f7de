// test_data.cpp — the data sources for training experiments: Shapeset as a pure function of (seed,
// index) with its class balance, overlap and polarity rules; IDX and CIFAR-10 files read back exactly,
// and every malformed file refused with a message naming it; Fashion-MNIST when it is installed.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "host/app/data/cifar10.h"
#include "host/app/data/idx.h"
#include "host/app/data/shapeset.h"

namespace fs = std::filesystem;
using namespace isc;

namespace {

constexpr int kPixels = kShapesetSide * kShapesetSide;

// The message of the std::runtime_error that `f` throws ("" if it throws none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Runs `check` on examples 0 .. n-1 of seed 1 with their masks.
void for_examples(int n, const std::function<void(uint64_t, const ShapesetInfo&, const std::vector<float>&,
                                                  const std::vector<uint8_t>&)>& check) {
  std::vector<float> x(kPixels);
  std::vector<uint8_t> masks(std::size_t(kShapesetGrid) * kShapesetGrid);
  for (int i = 0; i < n; ++i) {
    const ShapesetInfo info = shapeset_render(1, uint64_t(i), x.data(), masks.data());
    check(uint64_t(i), info, x, masks);
  }
}

}  // namespace

TEST(Shapeset, InterfaceAndClassNames) {
  const ShapesetDataset d(7);
  EXPECT_EQ(d.name(), "shapeset");
  EXPECT_EQ(d.input(), 1024);
  EXPECT_EQ(d.classes(), 9);
  EXPECT_EQ(d.size(), 0u);
  EXPECT_STREQ(shapeset_class_name(0), "triangle");
  EXPECT_STREQ(shapeset_class_name(1), "parallelogram");
  EXPECT_STREQ(shapeset_class_name(2), "ellipse");
  EXPECT_STREQ(shapeset_class_name(3), "triangle+triangle");
  EXPECT_STREQ(shapeset_class_name(4), "triangle+parallelogram");
  EXPECT_STREQ(shapeset_class_name(5), "triangle+ellipse");
  EXPECT_STREQ(shapeset_class_name(6), "parallelogram+parallelogram");
  EXPECT_STREQ(shapeset_class_name(7), "parallelogram+ellipse");
  EXPECT_STREQ(shapeset_class_name(8), "ellipse+ellipse");
  EXPECT_STREQ(shapeset_class_name(9), "?");
  EXPECT_STREQ(shapeset_class_name(-1), "?");
}

TEST(Shapeset, SameSeedAndIndexGiveTheSameBitsInAnyOrderOnAnyThread) {
  constexpr int n = 300;
  const ShapesetDataset d(42);
  std::vector<float> forward(std::size_t(n) * kPixels);
  std::vector<int> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = d.example(uint64_t(i), &forward[std::size_t(i) * kPixels]);

  // Backwards, from a second object, and with a stride, on two threads at once.
  const ShapesetDataset again(42);
  std::vector<float> other(forward.size(), -1.0f);
  std::vector<int> other_labels(n, -1);
  auto work = [&](int first) {
    for (int i = n - 1 - first; i >= 0; i -= 2)
      other_labels[i] = again.example(uint64_t(i), &other[std::size_t(i) * kPixels]);
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  EXPECT_EQ(labels, other_labels);
  EXPECT_EQ(std::memcmp(forward.data(), other.data(), forward.size() * sizeof(float)), 0);

  // A far index alone, twice.
  std::vector<float> a(kPixels), b(kPixels);
  EXPECT_EQ(d.example(uint64_t(1) << 40, a.data()), d.example(uint64_t(1) << 40, b.data()));
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * kPixels), 0);
}

TEST(Shapeset, DifferentIndicesAndSeedsDiffer) {
  const ShapesetDataset d1(1), d2(2);
  std::vector<float> a(kPixels), b(kPixels), c(kPixels);
  for (uint64_t i = 0; i < 100; ++i) {
    d1.example(i, a.data());
    d1.example(i + 1, b.data());
    d2.example(i, c.data());
    EXPECT_NE(std::memcmp(a.data(), b.data(), sizeof(float) * kPixels), 0) << "seed 1, examples " << i << ", " << i + 1;
    EXPECT_NE(std::memcmp(a.data(), c.data(), sizeof(float) * kPixels), 0) << "example " << i << ", seeds 1 and 2";
  }
}

// Pixels in [0, 1]; each is the coverage-weighted blend of its 4x4 sub-samples (the second shape over
// the first over the background); the shapes are visible (the image is not constant: a fully covered
// pixel is at the foreground level, one outside both shapes at the background level, at least 0.2 apart).
TEST(Shapeset, PixelsAreTheAntiAliasedBlendOfTheMasks) {
  for_examples(2000, [](uint64_t i, const ShapesetInfo& info, const std::vector<float>& x,
                        const std::vector<uint8_t>& masks) {
    float lo = 1, hi = 0;
    int wrong = 0;
    for (int py = 0; py < kShapesetSide; ++py) {
      for (int px = 0; px < kShapesetSide; ++px) {
        double sum = 0;
        for (int sy = 0; sy < kShapesetSub; ++sy) {
          for (int sx = 0; sx < kShapesetSub; ++sx) {
            const uint8_t m = masks[std::size_t(py * kShapesetSub + sy) * kShapesetGrid + px * kShapesetSub + sx];
            sum += m & 2 ? info.foreground[1] : m & 1 ? info.foreground[0] : info.background;
          }
        }
        const float v = x[std::size_t(py) * kShapesetSide + px];
        if (std::fabs(v - sum / 16.0) > 1e-6) ++wrong;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    EXPECT_EQ(wrong, 0) << "example " << i << ": pixels that are not the mean of their sub-samples";
    EXPECT_GE(lo, 0.0f) << "example " << i;
    EXPECT_LE(hi, 1.0f) << "example " << i;
    EXPECT_GE(hi - lo, 0.2f) << "example " << i << " (" << shapeset_class_name(info.label) << ") is nearly constant";
  });
}

// N = 9000 labels: each class count is Binomial(N, 1/9), mean 1000, sd sqrt(N p (1 - p)) = 29.8;
// 5 sd (149) is exceeded by chance with probability 6e-7 per class. The labels are also the ones the
// Dataset interface returns, and the shape kinds are the class's.
TEST(Shapeset, ClassesAreBalanced) {
  constexpr int n = 9000;
  const ShapesetDataset d(1);
  std::vector<int> count(kShapesetClasses, 0);
  std::vector<float> x(kPixels);
  const int pairs[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};
  for (int i = 0; i < n; ++i) {
    const ShapesetInfo info = shapeset_render(1, uint64_t(i), x.data());
    ASSERT_EQ(d.example(uint64_t(i), x.data()), info.label);
    ASSERT_GE(info.label, 0);
    ASSERT_LT(info.label, kShapesetClasses);
    ++count[info.label];
    if (info.label < 3) {
      EXPECT_EQ(info.shapes, 1);
      EXPECT_EQ(info.kind[0], info.label);
    } else {
      EXPECT_EQ(info.shapes, 2);
      const int* p = pairs[info.label - 3];
      EXPECT_TRUE((info.kind[0] == p[0] && info.kind[1] == p[1]) || (info.kind[0] == p[1] && info.kind[1] == p[0]))
          << "example " << i;
    }
  }
  const double p = 1.0 / kShapesetClasses, sd = std::sqrt(n * p * (1 - p));
  for (int c = 0; c < kShapesetClasses; ++c) {
    EXPECT_LE(std::fabs(count[c] - n * p), 5 * sd) << shapeset_class_name(c) << ": " << count[c] << " of " << n;
  }
}

namespace {

// The rules of an example's masks, measured on the masks themselves: a pair's second shape covers at
// most half of the first's sub-samples; every shape is visible (more than a pixel's worth of
// sub-samples); a single shape's example has no second mask; the masks are the whole shapes (none was
// cut at the image border: the areas the renderer counted on its shapes are the ones painted).
void expect_mask_rules(uint64_t i, const ShapesetInfo& info, const std::vector<uint8_t>& masks) {
  int area[2] = {0, 0}, both = 0;
  for (uint8_t m : masks) {
    area[0] += m & 1;
    area[1] += (m >> 1) & 1;
    both += (m & 3) == 3;
  }
  EXPECT_EQ(area[0], info.area[0]) << "example " << i;
  EXPECT_GT(area[0], 16) << "example " << i << ": the shape covers less than a pixel";
  if (info.shapes == 1) {
    EXPECT_EQ(area[1], 0) << "example " << i;
    return;
  }
  EXPECT_EQ(area[1], info.area[1]) << "example " << i;
  EXPECT_EQ(both, info.overlap) << "example " << i;
  EXPECT_LE(2 * both, area[0]) << "example " << i << ": overlap " << both << " of the first shape's " << area[0];
  EXPECT_GT(area[1], 16) << "example " << i << ": the second shape covers less than a pixel";
}

}  // namespace

TEST(Shapeset, PairsOverlapAtMostHalfOfTheFirstShape) {
  int pairs = 0, scanned = 0;
  for_examples(4000,
               [&](uint64_t i, const ShapesetInfo& info, const std::vector<float>&, const std::vector<uint8_t>& masks) {
                 expect_mask_rules(i, info, masks);
                 if (info.shapes == 1) return;
                 ++pairs;
                 EXPECT_GE(info.attempts, 1) << "example " << i;
                 EXPECT_LE(info.attempts, kShapesetAttempts) << "example " << i;
                 scanned += info.fallback_round >= 0;
               });
  EXPECT_GT(pairs, 2000);
  // The random placements almost always succeed (200,000 pairs of seed 1 needed at most 7 of 8).
  EXPECT_EQ(scanned, 0) << scanned << " of " << pairs << " pairs needed the grid scan";
}

// The grid scan, which the random attempts make a last resort, forced for every pair (attempts = 0):
// the same rules hold, and everything drawn before the second shape is unchanged (class, grey levels,
// the first shape), since the draws are read in order.
TEST(Shapeset, GridScanPlacementKeepsTheRules) {
  std::vector<float> y(kPixels);
  std::vector<uint8_t> scan(std::size_t(kShapesetGrid) * kShapesetGrid);
  int pairs = 0;
  for_examples(300,
               [&](uint64_t i, const ShapesetInfo& info, const std::vector<float>&, const std::vector<uint8_t>& masks) {
                 const ShapesetInfo s = shapeset_render(1, i, y.data(), scan.data(), 0);
                 expect_mask_rules(i, s, scan);
                 EXPECT_EQ(s.label, info.label);
                 EXPECT_EQ(s.background, info.background);
                 EXPECT_EQ(s.foreground[0], info.foreground[0]);
                 EXPECT_EQ(s.area[0], info.area[0]);
                 int first_differs = 0;
                 for (std::size_t k = 0; k < masks.size(); ++k) first_differs += (masks[k] & 1) != (scan[k] & 1);
                 EXPECT_EQ(first_differs, 0) << "example " << i;
                 if (s.shapes == 1) return;
                 ++pairs;
                 EXPECT_EQ(s.attempts, 0);
                 EXPECT_GE(s.fallback_round, 0) << "example " << i;
               });
  EXPECT_GT(pairs, 100);
}

// Light shapes on dark and dark on light: the swap has probability 1/2, so over N = 2000 examples the
// dark-on-light count is within 5 sd = 5 sqrt(N / 4) = 112 of N / 2. The grey levels are in their ranges.
TEST(Shapeset, BothPolaritiesOccur) {
  constexpr int n = 2000;
  int dark_on_light = 0;
  for_examples(
      n, [&](uint64_t i, const ShapesetInfo& info, const std::vector<float>& x, const std::vector<uint8_t>& masks) {
        dark_on_light += info.dark_on_light;
        const float bg_lo = info.dark_on_light ? 0.6f : 0.0f, fg_lo = info.dark_on_light ? 0.0f : 0.6f;
        EXPECT_GE(info.background, bg_lo) << "example " << i;
        EXPECT_LE(info.background, bg_lo + 0.4f) << "example " << i;
        for (int s = 0; s < info.shapes; ++s) {
          EXPECT_GE(info.foreground[s], fg_lo) << "example " << i;
          EXPECT_LE(info.foreground[s], fg_lo + 0.4f) << "example " << i;
        }
        // And in the image: pixels that no shape touches are lighter than pixels a shape covers fully
        // exactly when the shapes are dark on light.
        double bg = 0, fg = 0;
        int nb = 0, nf = 0;
        for (int p = 0; p < kPixels; ++p) {
          const int py = p / kShapesetSide, px = p % kShapesetSide;
          int covered = 0;
          for (int s = 0; s < kShapesetSub * kShapesetSub; ++s)
            covered += masks[std::size_t(py * kShapesetSub + s / kShapesetSub) * kShapesetGrid + px * kShapesetSub +
                             s % kShapesetSub] != 0;
          if (covered == 0) bg += x[std::size_t(p)], ++nb;
          if (covered == kShapesetSub * kShapesetSub) fg += x[std::size_t(p)], ++nf;
        }
        ASSERT_GT(nb, 0);
        ASSERT_GT(nf, 0);
        EXPECT_EQ(bg / nb > fg / nf, info.dark_on_light) << "example " << i;
      });
  EXPECT_LE(std::fabs(dark_on_light - n / 2.0), 5 * std::sqrt(n / 4.0)) << dark_on_light << " of " << n;
}

// --- IDX and CIFAR-10 files written by the tests --------------------------------------------------

class DataFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initscope_data_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `bytes` to `name`, gzip-compressed when the name ends in .gz; returns the path.
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string p = path(name);
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) {
      gzFile f = gzopen(p.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      if (!bytes.empty()) {
        EXPECT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
      }
      EXPECT_EQ(gzclose(f), Z_OK);
    } else {
      std::ofstream(p, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    return p;
  }

  fs::path dir_;
};

namespace {

void put32(std::vector<uint8_t>* b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b->push_back(uint8_t(v >> s));
}

// An IDX file: magic, sizes, data.
std::vector<uint8_t> idx(uint32_t magic, const std::vector<uint32_t>& sizes, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b;
  put32(&b, magic);
  for (uint32_t s : sizes) put32(&b, s);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// 5 images of 3 x 4 with distinct bytes (0, 11, 22, ... mod 256, so 0 and 255 both appear).
const std::vector<uint8_t> kPixelsIdx = [] {
  std::vector<uint8_t> p(5 * 3 * 4);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = uint8_t(i * 11 % 256);
  p[7] = 255;
  return p;
}();
const std::vector<uint8_t> kLabels = {3, 0, 7, 1, 9};

std::vector<uint8_t> images_file() { return idx(0x00000803, {5, 3, 4}, kPixelsIdx); }
std::vector<uint8_t> labels_file(const std::vector<uint8_t>& labels = kLabels) {
  return idx(0x00000801, {uint32_t(labels.size())}, labels);
}

void expect_exact(const Dataset& d) {
  ASSERT_EQ(d.size(), 5u);
  ASSERT_EQ(d.input(), 12);
  EXPECT_EQ(d.classes(), 10);  // largest label 9, + 1
  std::vector<float> x(12);
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(d.example(i, x.data()), kLabels[i]);
    for (std::size_t k = 0; k < 12; ++k) EXPECT_EQ(x[k], float(kPixelsIdx[i * 12 + k]) / 255.0f) << i << " " << k;
  }
  EXPECT_THROW(d.example(5, x.data()), std::out_of_range);
}

}  // namespace

using IdxFile = DataFiles;

TEST_F(IdxFile, PlainFilesReadBackExactly) {
  const IdxDataset d(write("train-images-idx3-ubyte", images_file()), write("train-labels-idx1-ubyte", labels_file()));
  expect_exact(d);
  EXPECT_EQ(d.rows(), 3);
  EXPECT_EQ(d.cols(), 4);
  EXPECT_EQ(d.name(), dir_.filename().string() + " train (5)");
}

TEST_F(IdxFile, GzipFilesReadBackExactly) {
  expect_exact(IdxDataset(write("i.gz", images_file()), write("l.gz", labels_file())));
  // One of each.
  expect_exact(IdxDataset(write("i2.gz", images_file()), write("l2", labels_file())));
}

// Classes: the largest label + 1, at least 2, unless given; a given count must exceed every label.
TEST_F(IdxFile, ClassCount) {
  const std::string images = write("i", images_file());
  EXPECT_EQ(IdxDataset(images, write("l0", labels_file({0, 0, 0, 0, 0}))).classes(), 2);
  EXPECT_EQ(IdxDataset(images, write("l4", labels_file({4, 0, 1, 2, 0}))).classes(), 5);
  EXPECT_EQ(IdxDataset(images, path("l4"), 10).classes(), 10);
  const std::string msg = error_of([&] { IdxDataset d(images, path("l4"), 3); });
  EXPECT_NE(msg.find(path("l4")), std::string::npos) << msg;
  EXPECT_NE(msg.find("label 4 (example 0) is not below the 3 classes"), std::string::npos) << msg;
  EXPECT_THROW(IdxDataset d(images, path("l4"), 1), std::invalid_argument);
}

TEST_F(IdxFile, MissingFile) {
  const std::string labels = write("l", labels_file());
  std::string msg = error_of([&] { IdxDataset d(path("nope.gz"), labels); });
  EXPECT_NE(msg.find(path("nope.gz") + ": cannot open: No such file or directory"), std::string::npos) << msg;
  msg = error_of([&] { IdxDataset d(write("i", images_file()), path("nolabels")); });
  EXPECT_NE(msg.find(path("nolabels") + ": cannot open"), std::string::npos) << msg;
  // A folder, or a device that would be read forever, is refused before reading.
  msg = error_of([&] { IdxDataset d(dir_.string(), labels); });
  EXPECT_NE(msg.find(dir_.string() + ": not a regular file (a folder)"), std::string::npos) << msg;
  msg = error_of([&] { IdxDataset d("/dev/zero", labels); });
  EXPECT_NE(msg.find("/dev/zero: not a regular file (a device or pipe)"), std::string::npos) << msg;
}

TEST_F(IdxFile, WrongMagic) {
  const std::string labels = write("l", labels_file());
  std::string msg = error_of([&] { IdxDataset d(write("i", idx(0x12345678, {5, 3, 4}, kPixelsIdx)), labels); });
  EXPECT_NE(msg.find(path("i") + ": wrong magic number 0x12345678, expected 0x00000803"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an IDX file"), std::string::npos) << msg;
  // Not unsigned bytes: 0x0D is float.
  msg = error_of([&] { IdxDataset d(write("f", idx(0x00000D03, {5, 3, 4}, kPixelsIdx)), labels); });
  EXPECT_NE(msg.find("0x00000D03"), std::string::npos) << msg;
  EXPECT_NE(msg.find("element type 0x0D is not unsigned byte (0x08)"), std::string::npos) << msg;
  // Too short for a magic number.
  msg = error_of([&] { IdxDataset d(write("s", {0, 0}), labels); });
  EXPECT_NE(msg.find(path("s") + ": too short for an IDX file: 2 bytes"), std::string::npos) << msg;
}

TEST_F(IdxFile, WrongNumberOfDimensions) {
  std::string msg = error_of([&] {
    IdxDataset d(write("i", idx(0x00000802, {5, 12}, kPixelsIdx)), write("l", labels_file()));
  });
  EXPECT_NE(msg.find(path("i") + ": wrong magic number 0x00000802, expected 0x00000803"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wrong number of dimensions: 2, expected 3"), std::string::npos) << msg;
  // A label file of 2 dimensions.
  msg = error_of([&] { IdxDataset d(write("i3", images_file()), write("l3", idx(0x00000802, {5, 1}, kLabels))); });
  EXPECT_NE(msg.find(path("l3") + ": wrong magic number 0x00000802, expected 0x00000801"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wrong number of dimensions: 2, expected 1"), std::string::npos) << msg;
}

TEST_F(IdxFile, TruncatedFiles) {
  const std::string labels = write("l", labels_file());
  std::vector<uint8_t> cut = images_file();
  cut.resize(16 + 50);
  std::string msg = error_of([&] { IdxDataset d(write("i", cut), labels); });
  EXPECT_NE(msg.find(path("i") + ": truncated data: 5 images of 3 x 4 need 60 bytes after the header, found 50"),
            std::string::npos)
      << msg;
  // The same inside a gzip stream.
  msg = error_of([&] { IdxDataset d(write("i.gz", cut), labels); });
  EXPECT_NE(msg.find(path("i.gz") + ": truncated data"), std::string::npos) << msg;
  // A header cut short.
  cut.resize(10);
  msg = error_of([&] { IdxDataset d(write("h", cut), labels); });
  EXPECT_NE(msg.find(path("h") + ": truncated header: 10 bytes, expected 16"), std::string::npos) << msg;
  // Labels cut short.
  std::vector<uint8_t> short_labels = labels_file();
  short_labels.pop_back();
  msg = error_of([&] { IdxDataset d(write("i2", images_file()), write("l2", short_labels)); });
  EXPECT_NE(msg.find(path("l2") + ": truncated data: 5 labels need 5 bytes after the header, found 4"),
            std::string::npos)
      << msg;
  // A gzip file cut short (the compressed stream itself).
  write("whole.gz", images_file());
  std::vector<uint8_t> gz;
  {
    std::ifstream in(path("whole.gz"), std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  gz.resize(gz.size() - 12);
  msg = error_of([&] { IdxDataset d(write("cut.z", gz), labels); });
  EXPECT_NE(msg.find(path("cut.z") + ": "), std::string::npos) << msg;
  EXPECT_TRUE(msg.find("ends early") != std::string::npos || msg.find("truncated") != std::string::npos) << msg;
  // Data beyond what the header announces.
  std::vector<uint8_t> more = images_file();
  more.push_back(1);
  msg = error_of([&] { IdxDataset d(write("m", more), labels); });
  EXPECT_NE(msg.find(path("m") + ": trailing data: 5 images of 3 x 4 need 60 bytes after the header, and the file "
                                 "goes on past them"),
            std::string::npos)
      << msg;
  // Far more than the header announces, compressed (64 MiB of zeros in about 64 KB; another file
  // given by mistake): refused, having read one byte past what the header announces, not the whole.
  more = images_file();
  more.resize(more.size() + (std::size_t(64) << 20), 0);
  const std::string big = write("big.gz", more);
  msg = error_of([&] { IdxDataset d(big, labels); });
  EXPECT_NE(msg.find(big + ": trailing data: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("(not read further)"), std::string::npos) << msg;
  more.resize(images_file().size());
  more.push_back(7);
  msg = error_of([&] { IdxDataset d(labels, write("l_more", more)); });  // (swapped: refused by its header)
  EXPECT_NE(msg.find("wrong magic number"), std::string::npos) << msg;
}

TEST_F(IdxFile, CountsDiffer) {
  const std::string images = write("i", images_file()), labels = write("l", labels_file({1, 2, 3, 4}));
  const std::string msg = error_of([&] { IdxDataset d(images, labels); });
  EXPECT_NE(msg.find(images + " has 5 images, " + labels + " has 4 labels"), std::string::npos) << msg;
}

TEST_F(IdxFile, ImagesAndLabelsSwapped) {
  const std::string images = write("i", images_file()), labels = write("l", labels_file());
  std::string msg = error_of([&] { IdxDataset d(labels, images); });
  EXPECT_NE(msg.find(labels + ": wrong magic number 0x00000801, expected 0x00000803"), std::string::npos) << msg;
  EXPECT_NE(msg.find("this is an IDX label file, not images"), std::string::npos) << msg;
  msg = error_of([&] { IdxDataset d(images, images); });
  EXPECT_NE(msg.find(images + ": wrong magic number 0x00000803, expected 0x00000801"), std::string::npos) << msg;
  EXPECT_NE(msg.find("this is an IDX image file, not labels"), std::string::npos) << msg;
}

TEST_F(IdxFile, EmptySets) {
  const std::string msg = error_of([&] {
    IdxDataset d(write("i", idx(0x00000803, {0, 3, 4}, {})), write("l", labels_file({})));
  });
  EXPECT_NE(msg.find(path("i") + ": no images"), std::string::npos) << msg;
}

namespace {

// `n` CIFAR-10 records; record r has label labels[r] and pixel k = (first + r * 3 + k) mod 256.
std::vector<uint8_t> cifar(const std::vector<uint8_t>& labels, int first) {
  std::vector<uint8_t> b;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    b.push_back(labels[r]);
    for (int k = 0; k < kCifarPixels; ++k) b.push_back(uint8_t((first + int(r) * 3 + k) % 256));
  }
  return b;
}

}  // namespace

using Cifar10File = DataFiles;

TEST_F(Cifar10File, TwoFilesReadBackExactlyInOrder) {
  const Cifar10Dataset d({write("a.bin", cifar({4, 9}, 0)), write("b.bin", cifar({0, 1, 2}, 100))});
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d.input(), 3072);
  EXPECT_EQ(d.classes(), 10);
  EXPECT_EQ(d.name(), "cifar-10 2 files (5)");
  const int labels[5] = {4, 9, 0, 1, 2}, first[5] = {0, 3, 100, 103, 106};
  std::vector<float> x(kCifarPixels);
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(d.example(i, x.data()), labels[i]);
    int wrong = 0;
    for (int k = 0; k < kCifarPixels; ++k) wrong += x[std::size_t(k)] != float((first[i] + k) % 256) / 255.0f;
    EXPECT_EQ(wrong, 0) << "record " << i;
  }
  EXPECT_THROW(d.example(5, x.data()), std::out_of_range);
  EXPECT_EQ(Cifar10Dataset({path("b.bin")}).name(), "cifar-10 b.bin (3)");
}

TEST_F(Cifar10File, Errors) {
  std::string msg = error_of([&] { Cifar10Dataset d({}); });
  EXPECT_NE(msg.find("no files given"), std::string::npos) << msg;

  const std::string good = write("good.bin", cifar({1}, 0));
  msg = error_of([&] { Cifar10Dataset d({good, path("missing.bin")}); });
  EXPECT_NE(msg.find(path("missing.bin") + ": cannot open: No such file or directory"), std::string::npos) << msg;

  std::vector<uint8_t> odd = cifar({1, 2}, 0);
  odd.resize(odd.size() + 5);
  msg = error_of([&] { Cifar10Dataset d({good, write("odd.bin", odd)}); });
  EXPECT_NE(msg.find(path("odd.bin") + ": size 6151 bytes is not a multiple of the 3073-byte CIFAR-10 record"),
            std::string::npos)
      << msg;

  msg = error_of([&] { Cifar10Dataset d({good, write("bad.bin", cifar({3, 10, 2}, 0))}); });
  EXPECT_NE(msg.find(path("bad.bin") + ": record 1 (counting from 0, at byte 3073) has label 10, expected 0..9"),
            std::string::npos)
      << msg;

  msg = error_of([&] { Cifar10Dataset d({write("empty.bin", {})}); });
  EXPECT_NE(msg.find("no records in " + path("empty.bin")), std::string::npos) << msg;
}

// --- the real Fashion-MNIST files (Debian's dataset-fashion-mnist) ----------------------------------

// Fashion-MNIST's test set has exactly 1000 examples of each of its 10 classes, its training set 6000.
TEST(DataFashionMnist, TestAndTrainingSets) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  for (const char* f : {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                        "train-labels-idx1-ubyte.gz"}) {
    if (!fs::exists(dir + f)) GTEST_SKIP() << dir << f << " is missing (apt-get install dataset-fashion-mnist)";
  }
  for (const auto& [part, n] : {std::pair<std::string, uint64_t>{"t10k", 10000}, {"train", 60000}}) {
    const IdxDataset d(dir + part + "-images-idx3-ubyte.gz", dir + part + "-labels-idx1-ubyte.gz", 10);
    EXPECT_EQ(d.name(), "fashion-mnist " + part + " (" + std::to_string(n) + ")");
    ASSERT_EQ(d.size(), n);
    EXPECT_EQ(d.rows(), 28);
    EXPECT_EQ(d.cols(), 28);
    ASSERT_EQ(d.input(), 784);
    EXPECT_EQ(d.classes(), 10);
    EXPECT_EQ(IdxDataset(dir + part + "-images-idx3-ubyte.gz", dir + part + "-labels-idx1-ubyte.gz").classes(), 10);
    std::vector<uint64_t> count(10, 0);
    std::vector<float> x(784);
    float lo = 1, hi = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const int label = d.example(i, x.data());
      ASSERT_GE(label, 0);
      ASSERT_LE(label, 9);
      ++count[std::size_t(label)];
      for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    for (int c = 0; c < 10; ++c) EXPECT_EQ(count[std::size_t(c)], n / 10) << part << " class " << c;
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
  }
}
