// train_test_util.h — random networks and minibatches for the training tests (reference, backend
// step, GPU parity): reproducible from a seed, sizes from an MlpShape.
#pragma once
#include <random>

#include "host/app/train/mlp_reference.h"

namespace isc::test {

// x ~ N(0, 1) (trials x samples x input), labels uniform over the classes.
inline MlpBatch random_batch(const MlpShape& s, int trials, int samples, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> x(0.0f, 1.0f);
  std::uniform_int_distribution<int> y(0, s.classes - 1);
  MlpBatch b;
  b.samples = samples;
  for (int k = 0; k < trials * samples * s.input; ++k) b.x.push_back(x(gen));
  for (int k = 0; k < trials * samples; ++k) b.y.push_back(y(gen));
  return b;
}

// Every weight and bias ~ N(0, sd^2) (biases too, so that their gradients are exercised off zero).
inline MlpParams random_params(const MlpShape& s, int trials, unsigned seed, float sd) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> w(0.0f, sd);
  MlpParams p = MlpParams::zeros(s, trials);
  for (auto* group : {&p.W, &p.b})
    for (auto& v : *group)
      for (auto& e : v) e = w(gen);
  return p;
}

}  // namespace isc::test
