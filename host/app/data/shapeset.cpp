// shapeset.cpp — Shapeset-3x2 rendering: random shapes drawn from a counter-based stream, placed
// inside the image with a bounded overlap, and anti-aliased by supersampling.
#include "host/app/data/shapeset.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kernels/det_math.h"
#include "kernels/philox.h"
#include "kernels/rng.h"

namespace isc {
namespace {

// Every random number of one example comes from Philox subsequence `index` under key `seed`, read
// in order, so an example depends on (seed, index) only: any example can be made alone, in any order,
// on any thread.
class Draws {
 public:
  Draws(uint64_t seed, uint64_t index) : seed_(seed), index_(index) {}
  uint32_t bits() {
    if (next_ == 4) {
      block_bits_ = philox_block(seed_, index_, block_++);
      next_ = 0;
    }
    return lane(block_bits_, next_++);
  }
  // Uniform in (lo, hi].
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform_from_bits(bits()); }
  // Uniform integer in [lo, hi].
  int between(int lo, int hi) { return lo + random_class(bits(), hi - lo + 1); }
  bool coin() { return (bits() >> 31) != 0; }

 private:
  uint64_t seed_, index_;
  uint64_t block_ = 0;
  unsigned next_ = 4;
  U32x4 block_bits_{};
};

// A shape relative to its centre, in pixels. Polygons are convex with counter-clockwise vertices
// (x right, y down in the image, so "counter-clockwise" is in the x-y plane as written); an ellipse
// is its semi-axes and the cosine and sine of its rotation.
struct Shape {
  int kind = kTriangle;
  int vertices = 0;
  float vx[4] = {}, vy[4] = {};
  float a = 0, b = 0, cos_t = 1, sin_t = 0;
  float x0 = 0, x1 = 0, y0 = 0, y1 = 0;  // bounding box
};

// cos and sin of `turns` full turns, reduced to [0, 1) first; det_sincos_2pi makes the angles the
// same bits on every machine (libm's sin and cos differ in the last place between versions).
void cos_sin(float turns, float* c, float* s) { det_sincos_2pi(turns - std::floor(turns), s, c); }

void polygon_box(Shape* sh) {
  sh->x0 = sh->x1 = sh->vx[0];
  sh->y0 = sh->y1 = sh->vy[0];
  for (int k = 1; k < sh->vertices; ++k) {
    sh->x0 = std::fmin(sh->x0, sh->vx[k]);
    sh->x1 = std::fmax(sh->x1, sh->vx[k]);
    sh->y0 = std::fmin(sh->y0, sh->vy[k]);
    sh->y1 = std::fmax(sh->y1, sh->vy[k]);
  }
}

void ellipse_box(Shape* sh) {
  const float hx = std::sqrt(sh->a * sh->a * sh->cos_t * sh->cos_t + sh->b * sh->b * sh->sin_t * sh->sin_t);
  const float hy = std::sqrt(sh->a * sh->a * sh->sin_t * sh->sin_t + sh->b * sh->b * sh->cos_t * sh->cos_t);
  sh->x0 = -hx;
  sh->x1 = hx;
  sh->y0 = -hy;
  sh->y1 = hy;
}

// Size ranges, in pixels of the 32x32 image. The largest shape's bounding box is under 26 pixels
// wide (a 14x14 parallelogram at 45 degrees: diagonal 14 * sqrt(2 + sqrt 2) = 25.9), so every shape
// fits inside the image at some position.
//   triangle: vertices at 1/3 turn apart, each angle jittered by up to 1/12 turn (consecutive vertices
//     1/6 to 1/2 turn apart, so never degenerate) and each at 4.5 to 9 pixels from the centre;
//   parallelogram: sides 6 to 14 pixels, the angle between them 45 to 90 degrees (rectangles included);
//   ellipse: semi-axes 3 to 8 pixels each.
// Every shape gets a uniform rotation.
Shape draw_shape(int kind, Draws& d) {
  Shape sh;
  sh.kind = kind;
  if (kind == kTriangle) {
    sh.vertices = 3;
    const float phi = d.uniform(0.0f, 1.0f);
    for (int k = 0; k < 3; ++k) {
      const float turns = phi + float(k) / 3.0f + d.uniform(-1.0f / 12.0f, 1.0f / 12.0f);
      const float r = d.uniform(4.5f, 9.0f);
      float c, s;
      cos_sin(turns, &c, &s);
      sh.vx[k] = r * c;
      sh.vy[k] = r * s;
    }
    polygon_box(&sh);
  } else if (kind == kParallelogram) {
    sh.vertices = 4;
    const float l1 = d.uniform(6.0f, 14.0f), l2 = d.uniform(6.0f, 14.0f);
    const float theta = d.uniform(0.0f, 1.0f), alpha = d.uniform(0.125f, 0.25f);
    float c1, s1, c2, s2;
    cos_sin(theta, &c1, &s1);
    cos_sin(theta + alpha, &c2, &s2);
    const float e1x = 0.5f * l1 * c1, e1y = 0.5f * l1 * s1, e2x = 0.5f * l2 * c2, e2y = 0.5f * l2 * s2;
    // -e1-e2, e1-e2, e1+e2, -e1+e2 (half sides): counter-clockwise because cross(e1, e2) = l1 l2 sin(alpha) > 0.
    const float sx[4] = {-1, 1, 1, -1}, sy[4] = {-1, -1, 1, 1};
    for (int k = 0; k < 4; ++k) {
      sh.vx[k] = sx[k] * e1x + sy[k] * e2x;
      sh.vy[k] = sx[k] * e1y + sy[k] * e2y;
    }
    polygon_box(&sh);
  } else {
    sh.a = d.uniform(3.0f, 8.0f);
    sh.b = d.uniform(3.0f, 8.0f);
    cos_sin(d.uniform(0.0f, 1.0f), &sh.cos_t, &sh.sin_t);
    ellipse_box(&sh);
  }
  return sh;
}

Shape scaled(Shape sh, float f) {
  for (int k = 0; k < sh.vertices; ++k) {
    sh.vx[k] *= f;
    sh.vy[k] *= f;
  }
  sh.a *= f;
  sh.b *= f;
  if (sh.kind == kEllipse) {
    ellipse_box(&sh);
  } else {
    polygon_box(&sh);
  }
  return sh;
}

bool inside(const Shape& sh, float dx, float dy) {
  // The bounding box test also keeps every covered sub-sample inside the image (see Stamp).
  if (dx < sh.x0 || dx > sh.x1 || dy < sh.y0 || dy > sh.y1) return false;
  if (sh.kind == kEllipse) {
    const float u = (dx * sh.cos_t + dy * sh.sin_t) / sh.a;
    const float v = (dy * sh.cos_t - dx * sh.sin_t) / sh.b;
    return u * u + v * v <= 1.0f;
  }
  for (int k = 0; k < sh.vertices; ++k) {
    const int n = (k + 1) % sh.vertices;
    const float cross = (sh.vx[n] - sh.vx[k]) * (dy - sh.vy[k]) - (sh.vy[n] - sh.vy[k]) * (dx - sh.vx[k]);
    if (cross < 0.0f) return false;
  }
  return true;
}

// A shape's covered sub-samples as offsets from its centre. Centres lie on the sub-sample grid
// (multiples of 1/kShapesetSub pixel), so the sub-sample (i, j) of a shape centred at grid point
// (mx, my) is at (i - mx + 1/2, j - my + 1/2) / kShapesetSub from the centre, exactly: the mask of a
// shape at any position is its stamp shifted, which makes trying many positions cheap.
struct Stamp {
  std::vector<int> ox, oy;
  int lo_x = 0, hi_x = 0, lo_y = 0, hi_y = 0;  // grid centres that keep the bounding box inside the image
};

Stamp stamp_of(const Shape& sh) {
  Stamp st;
  const float sub = float(kShapesetSub);
  const int y_lo = int(std::floor(sub * sh.y0)) - 1, y_hi = int(std::ceil(sub * sh.y1));
  const int x_lo = int(std::floor(sub * sh.x0)) - 1, x_hi = int(std::ceil(sub * sh.x1));
  const std::size_t box = std::size_t(std::max(0, y_hi - y_lo + 1)) * std::size_t(std::max(0, x_hi - x_lo + 1));
  st.ox.reserve(box);
  st.oy.reserve(box);
  for (int oy = y_lo; oy <= y_hi; ++oy) {
    for (int ox = x_lo; ox <= x_hi; ++ox) {
      if (inside(sh, (float(ox) + 0.5f) / sub, (float(oy) + 0.5f) / sub)) {
        st.ox.push_back(ox);
        st.oy.push_back(oy);
      }
    }
  }
  // The bounding box [m/sub + x0, m/sub + x1] lies in [0, kShapesetSide]: every shape lies wholly
  // inside the image. A covered sub-sample is inside the box (inside() checks it), hence on the grid.
  const float side = float(kShapesetGrid);
  st.lo_x = int(std::ceil(-sub * sh.x0));
  st.hi_x = int(std::floor(side - sub * sh.x1));
  st.lo_y = int(std::ceil(-sub * sh.y0));
  st.hi_y = int(std::floor(side - sub * sh.y1));
  return st;
}

// Sub-samples of `mask` (bit 0: the first shape) that the stamp covers when centred at (mx, my).
int overlap_at(const Stamp& st, const std::vector<uint8_t>& mask, int mx, int my) {
  int n = 0;
  for (std::size_t k = 0; k < st.ox.size(); ++k)
    n += mask[std::size_t(my + st.oy[k]) * kShapesetGrid + (mx + st.ox[k])] & 1;
  return n;
}

void paint(const Stamp& st, int mx, int my, uint8_t bit, std::vector<uint8_t>* mask) {
  for (std::size_t k = 0; k < st.ox.size(); ++k)
    (*mask)[std::size_t(my + st.oy[k]) * kShapesetGrid + (mx + st.ox[k])] |= bit;
}

// Grid-scan rounds, each shrinking the last attempt's shape by kShrink.
constexpr int kRounds = 12;
constexpr float kShrink = 0.75f;
// The scan tries centres every kScanStep sub-samples (half a pixel).
constexpr int kScanStep = 2;

// Places the second shape so that it covers at most half of the first shape's sub-samples: up to
// `attempts` random shapes at random positions; failing that (a large first shape, or a large second
// one that cannot avoid it), the last shape at a position drawn uniformly among the scan grid's centres
// that satisfy the rule, shrunk by kShrink per round while there is none. This always ends: the first
// shape's bounding box is under 26 pixels wide, leaving a strip at least 3 pixels wide beside it, and
// after 11 shrinks (0.75^11 = 0.042) the second shape is under 1.1 pixels wide and fits there with no
// overlap at some scan centre (a half-pixel grid). Returns the round used (-1: a random attempt).
int place_second(int kind, Draws& d, int area1, int attempts, std::vector<uint8_t>* mask, ShapesetInfo* info) {
  Shape sh;
  for (int t = 0; t < attempts; ++t) {
    sh = draw_shape(kind, d);
    const Stamp st = stamp_of(sh);
    const int mx = d.between(st.lo_x, st.hi_x), my = d.between(st.lo_y, st.hi_y);
    info->attempts = t + 1;
    const int ov = overlap_at(st, *mask, mx, my);
    if (2 * ov <= area1) {
      paint(st, mx, my, 2, mask);
      info->area[1] = int(st.ox.size());
      info->overlap = ov;
      return -1;
    }
  }
  if (attempts <= 0) sh = draw_shape(kind, d);
  std::vector<int> ok_x, ok_y, ok_ov;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) sh = scaled(sh, kShrink);
    const Stamp st = stamp_of(sh);
    ok_x.clear();
    ok_y.clear();
    ok_ov.clear();
    for (int my = st.lo_y; my <= st.hi_y; my += kScanStep) {
      for (int mx = st.lo_x; mx <= st.hi_x; mx += kScanStep) {
        const int ov = overlap_at(st, *mask, mx, my);
        if (2 * ov > area1) continue;
        ok_x.push_back(mx);
        ok_y.push_back(my);
        ok_ov.push_back(ov);
      }
    }
    if (ok_x.empty()) continue;
    const int pick = d.between(0, int(ok_x.size()) - 1);
    paint(st, ok_x[pick], ok_y[pick], 2, mask);
    info->area[1] = int(st.ox.size());
    info->overlap = ok_ov[pick];
    return round;
  }
  throw std::logic_error("shapeset: no placement of the second shape (cannot happen, see place_second)");
}

// The two shape kinds of each class: the single shapes, then the unordered pairs.
constexpr int kClassKinds[kShapesetClasses][2] = {{0, -1}, {1, -1}, {2, -1}, {0, 0}, {0, 1},
                                                  {0, 2},  {1, 1},  {1, 2},  {2, 2}};

}  // namespace

const char* shapeset_class_name(int label) {
  static const char* const names[kShapesetClasses] = {"triangle",
                                                      "parallelogram",
                                                      "ellipse",
                                                      "triangle+triangle",
                                                      "triangle+parallelogram",
                                                      "triangle+ellipse",
                                                      "parallelogram+parallelogram",
                                                      "parallelogram+ellipse",
                                                      "ellipse+ellipse"};
  return label >= 0 && label < kShapesetClasses ? names[label] : "?";
}

ShapesetInfo shapeset_render(uint64_t seed, uint64_t index, float* x, uint8_t* masks, int attempts) {
  Draws d(seed, index);
  ShapesetInfo info;
  // The class first, uniformly, then what it is made of.
  info.label = d.between(0, kShapesetClasses - 1);
  info.shapes = kClassKinds[info.label][1] < 0 ? 1 : 2;
  info.kind[0] = kClassKinds[info.label][0];
  info.kind[1] = info.shapes == 2 ? kClassKinds[info.label][1] : 0;
  // Either kind of a mixed pair may be the one drawn first (under the other), with probability 1/2.
  if (info.shapes == 2 && d.coin()) std::swap(info.kind[0], info.kind[1]);

  // Grey levels: background in (0, 0.4], each shape's own level in (0.6, 1]; with probability 1/2
  // both ranges are mirrored (1 - level), which gives dark shapes on a light background.
  info.dark_on_light = d.coin();
  info.background = d.uniform(0.0f, 0.4f);
  for (int s = 0; s < info.shapes; ++s) info.foreground[s] = d.uniform(0.6f, 1.0f);
  if (info.dark_on_light) {
    info.background = 1.0f - info.background;
    for (int s = 0; s < info.shapes; ++s) info.foreground[s] = 1.0f - info.foreground[s];
  }

  std::vector<uint8_t> mask(std::size_t(kShapesetGrid) * kShapesetGrid, 0);
  const Shape first = draw_shape(info.kind[0], d);
  const Stamp st = stamp_of(first);
  const int mx = d.between(st.lo_x, st.hi_x), my = d.between(st.lo_y, st.hi_y);
  paint(st, mx, my, 1, &mask);
  info.area[0] = int(st.ox.size());
  if (info.shapes == 2) info.fallback_round = place_second(info.kind[1], d, info.area[0], attempts, &mask, &info);

  // Each pixel: the mean of its sub-samples, the second shape over the first over the background.
  // The weighted sum cannot exceed 1: every rounded term n * level is at most n.
  constexpr int kSub2 = kShapesetSub * kShapesetSub;
  for (int py = 0; py < kShapesetSide; ++py) {
    for (int px = 0; px < kShapesetSide; ++px) {
      int n[3] = {0, 0, 0};
      for (int sy = 0; sy < kShapesetSub; ++sy) {
        const uint8_t* row = &mask[std::size_t(py * kShapesetSub + sy) * kShapesetGrid + px * kShapesetSub];
        for (int sx = 0; sx < kShapesetSub; ++sx) ++n[row[sx] & 2 ? 2 : row[sx] & 1 ? 1 : 0];
      }
      const float sum =
          float(n[0]) * info.background + float(n[1]) * info.foreground[0] + float(n[2]) * info.foreground[1];
      x[py * kShapesetSide + px] = sum / float(kSub2);
    }
  }
  if (masks) std::copy(mask.begin(), mask.end(), masks);
  return info;
}

}  // namespace isc
