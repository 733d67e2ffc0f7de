// inputs.h — per-element forms of the input batch and the biases (both backends): correlated
// input pairs and per-unit random biases.
#pragma once
#include "hd.h"

namespace isc {

// Inputs come in pairs (2k, 2k+1) with correlation rho: x_{2k+1} <- rho x_{2k} + rest x_{2k+1},
// rest = sqrt(1 - rho^2), every step rounded.
ISC_HD float pair_rest(float rho) { return sqrt_rn(sub_rn(1.0f, mul_rn(rho, rho))); }
ISC_HD float mix_pair(float a, float b, float rho, float rest) { return add_rn(mul_rn(rho, a), mul_rn(rest, b)); }

// The measured c-map: the cosine similarity of two rows from their dot products (ab = sum a b,
// aa = sum a^2, bb = sum b^2; 0 when either row is all zeros or not finite), and the mean of the
// pairs' cosines (NaN without a pair). The backends sum the dot products in their own fixed orders.
ISC_HD double pair_cosine_of(double ab, double aa, double bb) { return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0; }
ISC_HD double mean_pair_cosine(double sum, int pairs) { return pairs > 0 ? sum / pairs : nan(""); }

// A value plus its unit's random bias: x + (bias + draw), draw from the unit's N(0, bias_std^2).
ISC_HD float add_unit_bias(float x, float bias, float draw) { return add_rn(x, add_rn(bias, draw)); }

}  // namespace isc
