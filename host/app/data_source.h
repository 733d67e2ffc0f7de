// data_source.h — inputs from a data set (data.kind = "shapeset", "idx", "cifar10"): the data set,
// loaded once per process, and the batch of examples every trial of a configuration sees.
#pragma once
#include <memory>
#include <vector>

#include "host/app/config.h"
#include "host/app/data/dataset.h"

namespace isc {

// The data set a configuration names, loaded once per process and shared (thread-safe); throws the
// loader's error (naming the file and what is wrong) for one that cannot be read.
std::shared_ptr<const Dataset> dataset_of(DataKind kind, const Config::DataFiles& files);

// The data set the evaluation examples come from: the test set when the config names one, else the
// data set itself (its first `samples` examples then never train).
std::shared_ptr<const Dataset> eval_dataset_of(const Config& c);
// How many examples at the start of the training data set are held out for evaluation: samples, or
// 0 with a separate test set.
uint64_t held_out_examples(const Config& c);

// The samples every trial sees: examples 0 .. samples-1 of the data set, as the paper measured its
// networks on a fixed set of test examples (trials differ in their weights only), with their labels
// and the moments the mean-field theory starts from.
struct DataBatch {
  int samples = 0, input = 0;
  std::vector<float> x;       // samples x input, row-major
  std::vector<float> labels;  // samples, as floats (the backends' target buffers)
  double mean_sq = 0;         // E[x^2] over every value: the theory's E[h_0^2]
  double variance = 0;        // Var[x] over every value: var_ratio's Var[h_0]
  double pair_product = 0;    // E[x_a x_b] over the pairs (2k, 2k+1) and units: the theory's E[h_0(a) h_0(b)]
};
// The batch of configuration c (c.data must be a data set kind), computed once and kept.
std::shared_ptr<const DataBatch> data_batch(const Config& c);

// examples.json: the first `most` examples of c's batch (what the networks saw), for a person to look
// at (the report's data sheet): the data set's name, image shape, each example's label and class
// name, and its pixels as integers 0..255.
std::string examples_json(const Config& c, int most = 64);

// E[h_0^2], Var[h_0] and E[h_0(a) h_0(b)] of c's inputs: exact for drawn inputs, the batch's for data.
double input_mean_square(const Config& c);
double input_var(const Config& c);
double input_pair_product(const Config& c);

}  // namespace isc
