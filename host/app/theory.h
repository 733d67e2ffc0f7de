// theory.h — mean-field (infinite-width) predictions per layer: the q-map, chi_1, the gradient
// variance ratio and the c-map, by Gauss–Hermite quadrature (Poole et al. 2016, Schoenholz et al. 2017).
#pragma once
#include <functional>
#include <vector>

#include "host/app/config.h"

namespace isc {

// Nodes and weights for E_{z ~ N(0,1)}[g(z)] ~= sum_i w_i g(x_i) (probabilists' Gauss–Hermite).
struct Quadrature {
  std::vector<double> x, w;
};
Quadrature gauss_hermite(int n);

// Per hidden layer l (0-based here, 1-based in theory.csv):
struct LayerTheory {
  double sigma_w2 = 0;    // n_in Var[W_l]
  double q_pre = 0;       // E[s_l^2]: second moment of the pre-activation
  double var_pre = 0;     // Var[s_l]
  double var_act = 0;     // E[h_l^2]: second moment of the activation
  double chi1 = 0;        // sigma_w2 E[f'(s_l)^2]
  double grad_ratio = 0;  // Var[dC/ds_l] / Var[dC/ds_{l+1}] = n_{l+1} Var[W_{l+1}] E[f'(s_l)^2]
  double c_pre = 0;       // E[s_l(a) s_l(b)] / E[s_l^2] for two inputs with correlation c_in
};

// The infinite-width prediction for a configuration: s_l ~ N(bias, sigma_w2 E[h_{l-1}^2] +
// bias_std^2), h_0 the input (variance 1 for gaussian, 1/3 for uniform data); the c-map starts
// from the inputs' pair correlation (data.pair_correlation).
std::vector<LayerTheory> mean_field(const Config& c, int nodes = 96);

// E[g(u) g(v)] for (u, v) jointly Gaussian with means m, variances q and correlation rho. `odd`: g is
// odd bit for bit (g(-s) == -g(s)), which halves the evaluations when m = 0 and gives the same
// result bit for bit (mean_field uses it for the odd activations, Act<K>::kOdd).
double pair_expectation(const std::function<double(double)>& g, double m, double q, double rho, const Quadrature& quad,
                        bool odd = false);

// The activation in double precision (theory and tests).
double activation_value(const ActivationSpec& a, double s);

}  // namespace isc
