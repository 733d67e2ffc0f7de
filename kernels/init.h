// init.h — weight initialization schemes: scale formulas (host) and the per-element draw (both).
#pragma once
#include <cmath>

#include "rng.h"

namespace isc {

enum class InitScheme : int {
  Zeros = 0,
  Constant,
  Uniform,
  Standard,
  XavierUniform,
  XavierNormal,
  LecunUniform,
  LecunNormal,
  HeUniform,
  HeNormal
};

struct InitSpec {
  InitScheme scheme = InitScheme::XavierUniform;
  double gain = 1.0;
  double value = 0.01;  // constant(c)
  double bound = 0.01;  // uniform(a): U[-a, a]
  double slope = 0.0;   // leaky-ReLU a in He's 2 / ((1 + a^2) n_in)
};

// What one layer's weights are: a constant, U[-scale, scale] or N(0, scale^2).
enum class DrawKind : int { Constant = 0, Uniform = 1, Normal = 2 };
struct LayerDraw {
  DrawKind kind = DrawKind::Constant;
  float scale = 0.0f;
};

// Resolves a scheme for a layer with n_in inputs and n_out outputs (W is n_out x n_in).
inline LayerDraw resolve_init(const InitSpec& s, int n_in, int n_out) {
  const double fi = n_in, fo = n_out, g = s.gain;
  const double he = 2.0 / ((1.0 + s.slope * s.slope) * fi);
  LayerDraw d;
  switch (s.scheme) {
    case InitScheme::Zeros: d = {DrawKind::Constant, 0.0f}; break;
    case InitScheme::Constant: d = {DrawKind::Constant, float(g * s.value)}; break;
    case InitScheme::Uniform: d = {DrawKind::Uniform, float(g * s.bound)}; break;
    case InitScheme::Standard: d = {DrawKind::Uniform, float(g / std::sqrt(fi))}; break;
    case InitScheme::XavierUniform: d = {DrawKind::Uniform, float(g * std::sqrt(6.0 / (fi + fo)))}; break;
    case InitScheme::XavierNormal: d = {DrawKind::Normal, float(g * std::sqrt(2.0 / (fi + fo)))}; break;
    case InitScheme::LecunUniform: d = {DrawKind::Uniform, float(g * std::sqrt(3.0 / fi))}; break;
    case InitScheme::LecunNormal: d = {DrawKind::Normal, float(g * std::sqrt(1.0 / fi))}; break;
    case InitScheme::HeUniform: d = {DrawKind::Uniform, float(g * std::sqrt(3.0 * he))}; break;
    case InitScheme::HeNormal: d = {DrawKind::Normal, float(g * std::sqrt(he))}; break;
  }
  return d;
}

// Variance of one weight under a resolved draw (for tests and theory).
inline double draw_variance(const LayerDraw& d) {
  const double s = d.scale;
  return d.kind == DrawKind::Uniform ? s * s / 3.0 : d.kind == DrawKind::Normal ? s * s : 0.0;
}

// Maps a uniform u in (0, 1] to U[-scale, scale]: scale * (2u - 1), exact up to the last product.
ISC_HD float uniform_symmetric(float u, float scale) { return mul_rn(scale, sub_rn(mul_rn(2.0f, u), 1.0f)); }

// Writes elements [4*block, 4*block+4) of one layer's weight stream.
ISC_HD void draw4(const LayerDraw& d, uint64_t seed, uint64_t subsequence, uint64_t block, float out[4]) {
  if (d.kind == DrawKind::Constant) {
    out[0] = out[1] = out[2] = out[3] = d.scale;
  } else if (d.kind == DrawKind::Uniform) {
    uniform4(seed, subsequence, block, out);
    for (int i = 0; i < 4; ++i) out[i] = uniform_symmetric(out[i], d.scale);
  } else {
    normal4(seed, subsequence, block, out);
    for (int i = 0; i < 4; ++i) out[i] = mul_rn(out[i], d.scale);
  }
}

}  // namespace isc
