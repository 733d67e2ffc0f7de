// types.h — the small vocabulary every backend and the application share: quantities, what the
// statistics ops compute, input and target kinds. Includes no config parsing and no JSON.
#pragma once
#include <string>
#include <vector>

#include "kernels/activations.h"
#include "kernels/histogram.h"
#include "kernels/init.h"
#include "kernels/quantity.h"

namespace isc {

const char* to_string(Quantity q);
bool quantity_from_string(const std::string& s, Quantity* q);

// What the statistics ops are asked to compute.
struct StatsSpec {
  HistRange range[kQuantities];     // per quantity
  std::vector<double> percentiles;  // in [0, 100]
  bool enabled[kQuantities] = {true, true, false, false, false};
  int jacobian_samples = 0;     // samples per trial whose Jacobians are decomposed
  ActivationSpec activation{};  // the network's: what the counted predicates test (kernels/counted.h)
};

// The input batch: N(0, 1) or U[-1, 1] draws, like weights, drawn by the backend (fill_input); or
// examples of a data set (host/app/data_source.h), uploaded.
enum class DataKind : int { Gaussian = 0, Uniform = 1, Shapeset = 2, Idx = 3, Cifar10 = 4 };
inline bool drawn_input(DataKind k) { return k == DataKind::Gaussian || k == DataKind::Uniform; }
inline LayerDraw input_draw(DataKind k) {
  return k == DataKind::Gaussian ? LayerDraw{DrawKind::Normal, 1.0f} : LayerDraw{DrawKind::Uniform, 1.0f};
}
// The exact variance of one drawn input value (1 or 1/3).
inline double input_variance(DataKind k) { return draw_variance(input_draw(k)); }

// The output layer's targets: uniformly random classes, or the argmax of a fixed random linear
// teacher applied to the inputs.
enum class TargetKind : int { Random = 0, Teacher = 1 };

}  // namespace isc
