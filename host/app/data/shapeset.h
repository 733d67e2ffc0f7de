// shapeset.h — Shapeset-3x2 (Glorot & Bengio 2010): 32x32 grey images of one or two shapes among
// triangle, parallelogram and ellipse, 9 classes, each example a pure function of (seed, index).
#pragma once
#include <cstdint>
#include <string>

#include "host/app/data/dataset.h"

namespace isc {

// The image is kShapesetSide x kShapesetSide pixels; each pixel is the mean of kShapesetSub x
// kShapesetSub sub-samples (anti-aliasing), so shapes are rendered on a kShapesetGrid^2 grid.
constexpr int kShapesetSide = 32;
constexpr int kShapesetSub = 4;
constexpr int kShapesetGrid = kShapesetSide * kShapesetSub;
constexpr int kShapesetClasses = 9;

// Shape kinds, which are also the labels of the single-shape classes.
enum ShapeKind : int { kTriangle = 0, kParallelogram = 1, kEllipse = 2 };

// "triangle", "parallelogram", "ellipse", then the pairs "triangle+triangle" (3),
// "triangle+parallelogram" (4), "triangle+ellipse" (5), "parallelogram+parallelogram" (6),
// "parallelogram+ellipse" (7), "ellipse+ellipse" (8); "?" for any other label.
const char* shapeset_class_name(int label);

// What one example is made of, for tests and for looking at the data.
struct ShapesetInfo {
  int label = 0;
  int shapes = 1;                // 1 or 2
  int kind[2] = {0, 0};          // ShapeKind of the first and second shape (second drawn on top)
  float background = 0;          // grey level of the background
  float foreground[2] = {0, 0};  // grey level of each shape
  bool dark_on_light = false;    // the grey ranges were swapped: dark shapes on a light background
  int area[2] = {0, 0};          // sub-samples covered by each shape (of kShapesetGrid^2)
  int overlap = 0;               // sub-samples covered by both shapes
  int attempts = 0;              // random placements tried for the second shape
  int fallback_round = -1;       // -1, or the shrink round of the grid-scan placement that was used
};

// Random placements tried for the second shape of a pair before the grid scan (see shapeset.cpp).
constexpr int kShapesetAttempts = 8;

// Renders example `index` of the stream `seed` into x[0 .. kShapesetSide^2) (row-major, values in
// [0, 1]) and describes it. With `masks` (kShapesetGrid^2 bytes, row-major), also writes which
// shapes cover each sub-sample: bit 0 the first shape, bit 1 the second. Thread-safe. `attempts` is
// for tests: 0 places every second shape by the grid scan, which the data set itself needs about
// never (no pair in 200,000 needed more than 7 of its 8 attempts).
ShapesetInfo shapeset_render(uint64_t seed, uint64_t index, float* x, uint8_t* masks = nullptr,
                             int attempts = kShapesetAttempts);

// The infinite Shapeset stream of one seed: example(i) is shapeset_render(seed, i).
class ShapesetDataset : public Dataset {
 public:
  explicit ShapesetDataset(uint64_t seed) : seed_(seed) {}
  std::string name() const override { return "shapeset"; }
  std::string class_name(int label) const override { return shapeset_class_name(label); }
  std::vector<int> image_shape() const override { return {kShapesetSide, kShapesetSide}; }
  int input() const override { return kShapesetSide * kShapesetSide; }
  int classes() const override { return kShapesetClasses; }
  uint64_t size() const override { return 0; }
  int example(uint64_t index, float* x) const override { return shapeset_render(seed_, index, x).label; }

 private:
  uint64_t seed_;
};

}  // namespace isc
